import type { BundleSource, BundleSources } from '../bundle/bundle-source.js';
import { failureHint } from '../bundle/failure-hint.js';
import { formatBundleWarning, type BundleWarning } from '../bundle/unbundlable.js';
import { FngateError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { ResolvedFunction } from '../config/resolve-config.js';
import { FunctionPool } from '../pool/function-pool.js';
import type { TaskEnvelope } from '../protocol/envelope.js';
import type { Invocation, ResponseSink } from '../protocol/invocation.js';
import { availableParallelism } from 'node:os';
import { DeferredInvocation } from './deferred-invocation.js';
import { loadFailed, prepareVersion, type PrepareSteps } from './deploy.js';
import { WarmQueue } from './warm-queue.js';
import type { DeployResult, FunctionVersion, LiveState } from './function-version.js';
import { RetiredVersions, type DrainOptions } from './retired-versions.js';
import { StandbyPools } from './standby-pools.js';

export type { DeployResult, FunctionVersion, LiveState } from './function-version.js';

export interface RegistryOptions {
  readonly root: string;
  /** Where each function's bundles come from (esbuild, or fngate build's output). */
  readonly sources: BundleSources;
  /** NODE_ENV inside functions. */
  readonly nodeEnv: string;
  /** Pools for `fngate invoke` (see FunctionWorkerData.invoke). @default false */
  readonly invoke?: boolean;
  /** Hot reload: keep a standby pool for the next version of a function once it was reloaded (see StandbyPools). @default false */
  readonly standby?: boolean;
  readonly logger: Logger;
  /** A deploy after a function's first one finished, swapped in or not. */
  readonly onReload?: (name: string, result: DeployResult) => void;
}

interface Entry {
  config: ResolvedFunction;
  source: BundleSource;
  live: FunctionVersion | undefined;
  /** Why there is no live version (build error, load failure). */
  problem: FngateError | undefined;
  /** Project files to watch: what the last good build included, plus files that failed since. */
  inputs: readonly string[];
  /** The last build failed on an import that did not resolve: a file that appears may fix it. */
  unresolved: boolean;
  /** Work on one function runs one step after another, so versions never go backwards. */
  chain: Promise<unknown>;
  nextVersion: number;
  /** The function's shared memory: outlives versions and threads; replaced only when its size changes. */
  shared: SharedArrayBuffer | null;
  /** Its first deploy at start-up, while it runs: requests that arrive meanwhile wait for it. */
  starting: Promise<DeployResult> | undefined;
  /** Its latest build came from the build cache (known before the version serves). */
  cached: boolean;
  /** Bundled packages of its latest good build that will likely break inside the bundle. */
  warnings: readonly BundleWarning[];
  /** Those warnings as last printed: printed again only when they change. */
  warned: string;
}

/**
 * The live map from function name to its serving version. A deploy builds a new version, warms
 * it with one probe, and swaps it in with one assignment; the old version drains in the
 * background (its in-flight requests finish there), then its pool and bundle are removed.
 * A failed build or warm-up leaves the serving version in place.
 */
export class FunctionRegistry {
  readonly #options: RegistryOptions;
  readonly #entries = new Map<string, Entry>();
  /** Removed functions still stopping. */
  readonly #removing = new Set<Promise<void>>();
  readonly #retired = new RetiredVersions();
  readonly #standby = new StandbyPools();
  /** Pools of versions being warmed up: close() stops them rather than waiting for a module that hangs. */
  readonly #warming = new Set<FunctionPool>();
  /** The order in which functions load at start-up: a few at a time, those with waiting requests first. */
  readonly #startOrder = new WarmQueue(availableParallelism());
  #closing = false;

  constructor(options: RegistryOptions) {
    this.#options = options;
  }

  /**
   * Start-up: registers every function and deploys their first versions. `built` resolves when
   * every build (or build-cache check) is done, which is when the server may listen: requests
   * for a function still loading wait for it. Threads then start a few at a time, those of
   * functions with minThreads > 0 first; a function with minThreads 0 is not loaded until its
   * first request starts its first thread. `deployed` resolves when all are done.
   */
  start(configs: readonly ResolvedFunction[]): { built: Promise<void>; deployed: Promise<DeployResult[]> } {
    const builds: Promise<void>[] = [];
    const ordered = [...configs].sort((a, b) => Number(b.minThreads > 0) - Number(a.minThreads > 0));
    const deploys = ordered.map((config) => {
      let built!: () => void;
      builds.push(new Promise<void>((resolve) => (built = resolve)));
      const deployed = (async () => {
        const entry = await this.#register(config);
        const first = this.#enqueue(entry, () =>
          this.#deploy(entry, { verify: config.minThreads > 0, onBuilt: () => built(), inTurn: (task) => this.#startOrder.run(config.name, task) }),
        );
        entry.starting = first;
        void first.finally(() => (entry.starting = undefined));
        return first;
      })().finally(() => built());
      return deployed;
    });
    return { built: Promise.all(builds).then(() => {}), deployed: Promise.all(deploys) };
  }

  /** Registers a function and deploys its first version (a function added to config.yaml in dev). Never throws for user errors. */
  async add(config: ResolvedFunction): Promise<DeployResult> {
    const entry = await this.#register(config);
    return this.#enqueue(entry, () => this.#deploy(entry));
  }

  async #register(config: ResolvedFunction): Promise<Entry> {
    const entry: Entry = {
      config,
      source: await this.#options.sources.create(config),
      live: undefined,
      problem: undefined,
      inputs: [config.file],
      unresolved: false,
      chain: Promise.resolve(),
      nextVersion: 1,
      shared: null,
      starting: undefined,
      cached: false,
      warnings: [],
      warned: '',
    };
    this.#entries.set(config.name, entry);
    return entry;
  }

  /** Rebuilds from the current sources and swaps in the result; the serving version stays on failure. */
  deploy(name: string): Promise<DeployResult> {
    const entry = this.#get(name);
    entry.source.changed?.();
    // The new version's thread starts while esbuild builds it (a first save has no standby yet).
    if (this.#options.standby) this.#standby.prepare(entry.config, () => this.#createPool(entry));
    return this.#reported(name, this.#enqueue(entry, () => this.#deploy(entry)));
  }

  /** New settings (or a new file) for a function: deploys a new version with them. */
  update(config: ResolvedFunction): Promise<DeployResult> {
    const entry = this.#get(config.name);
    return this.#reported(
      config.name,
      this.#enqueue(entry, async () => {
        // The builder bundles with its file and `external`: a new one for either.
        if (config.file !== entry.config.file || JSON.stringify(config.external) !== JSON.stringify(entry.config.external)) {
          await entry.source.dispose();
          entry.source = await this.#options.sources.create(config);
          entry.inputs = [config.file];
        }
        entry.config = config;
        return this.#deploy(entry);
      }),
    );
  }

  /** Replaces a function's config where nothing the pool uses changed (its routes). */
  setConfig(config: ResolvedFunction): void {
    this.#get(config.name).config = config;
  }

  /**
   * Forgets a function at once (invoke() no longer finds it); its serving version drains in the
   * background, then its pool and bundle are removed.
   */
  remove(name: string): Promise<void> {
    const entry = this.#get(name);
    this.#entries.delete(name);
    const removal = this.#stop(entry, {});
    this.#removing.add(removal);
    void removal.finally(() => this.#removing.delete(removal));
    return removal;
  }

  /**
   * Starts a request on the function's live version. A function still starting is waited for
   * (at most its timeout). Throws FNGATE_UNAVAILABLE when there is no version.
   */
  invoke(name: string, envelope: TaskEnvelope, sink?: ResponseSink): Invocation {
    const entry = this.#entries.get(name);
    const live = entry?.live;
    if (live === undefined && entry?.starting !== undefined) {
      this.#startOrder.prioritize(name);
      return new DeferredInvocation(entry.starting, () => this.invoke(name, envelope, sink), entry.config.timeout, name);
    }
    if (live === undefined) {
      throw entry?.problem ?? new FngateError('FNGATE_UNAVAILABLE', `${name} is not loaded`, { fn: name });
    }
    return live.pool.submit(envelope, sink);
  }

  /** The function as it is right now (see LiveState). */
  liveState(name: string): LiveState {
    const entry = this.#entries.get(name);
    const live = entry?.live;
    const pool = live?.pool;
    const paused = pool?.paused;
    return {
      name,
      state: live === undefined ? (entry?.starting !== undefined ? 'starting' : 'unavailable') : entry?.problem !== undefined ? 'unavailable' : paused !== undefined ? 'paused' : 'serving',
      problem: entry?.problem?.message ?? paused?.reason ?? null,
      version: live?.version ?? null,
      builtAt: live?.builtAt ?? null,
      readyMs: live?.readyMs ?? null,
      fromCache: live?.fromCache ?? entry?.cached ?? false,
      threads: pool?.threads ?? 0,
      busyThreads: pool?.busyThreads ?? 0,
      running: pool?.running ?? 0,
      queued: pool?.queued ?? 0,
      perThread: pool?.perThread ?? 0,
    };
  }

  /** Mean event-loop utilization of the function's threads since the previous call (0..1). */
  sampleUtilization(name: string): number {
    return this.#entries.get(name)?.live?.pool.utilization() ?? 0;
  }

  /** Every project file some function's bundle includes (or included before it broke). */
  inputs(): Set<string> {
    const files = new Set<string>();
    for (const entry of this.#entries.values()) for (const file of entry.inputs) files.add(file);
    return files;
  }

  /** Functions whose last build failed on an import that did not resolve. */
  waitingForFiles(): string[] {
    return [...this.#entries.values()].filter((entry) => entry.unresolved).map((entry) => entry.config.name);
  }

  /** The functions whose bundle includes `file`. */
  functionsUsing(file: string): string[] {
    return [...this.#entries.values()].filter((entry) => entry.inputs.includes(file)).map((entry) => entry.config.name);
  }

  /**
   * Closes every pool, and every esbuild context. In-flight requests (and work they left running
   * through ctx.waitUntil) finish first, for at most `graceMs` when given; `force` stops at once.
   */
  async close(options: DrainOptions = {}): Promise<void> {
    this.#closing = true;
    for (const pool of this.#warming) void pool.close({ force: true });
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    const stopping = Promise.allSettled([...this.#removing, ...entries.map((entry) => this.#stop(entry, options))]);
    // Old versions still draining (a stream that outlived a reload) get the same bound.
    void this.#retired.closeAll(options);
    await stopping;
    await this.#retired.closeAll(options);
  }

  /** Stops a function that is gone from the map: after its deploys, its version drains, then its builder and standby go. */
  async #stop(entry: Entry, options: DrainOptions): Promise<void> {
    await entry.chain;
    const live = entry.live;
    entry.live = undefined;
    await Promise.allSettled([entry.source.dispose(), live ? this.#retired.retire(live, options) : undefined, this.#standby.drop(entry.config.name)]);
  }

  #get(name: string): Entry {
    const entry = this.#entries.get(name);
    if (entry === undefined) throw new Error(`unknown function ${name}`);
    return entry;
  }

  #reported(name: string, deploy: Promise<DeployResult>): Promise<DeployResult> {
    return deploy.then((result) => {
      this.#options.onReload?.(name, result);
      return result;
    });
  }

  #enqueue<T>(entry: Entry, task: () => Promise<T>): Promise<T> {
    const next = entry.chain.then(task);
    entry.chain = next.catch(() => {});
    return next;
  }

  async #deploy(entry: Entry, first?: Pick<PrepareSteps, 'verify' | 'onBuilt' | 'inTurn'>): Promise<DeployResult> {
    const { name } = entry.config;
    if (this.#closing) return shuttingDown(name);
    const started = performance.now();
    const prepared = await prepareVersion({
      verify: true,
      ...first,
      // What the build read is known before the warm-up: the watcher follows it from then on.
      onBuilt: (build) => {
        entry.inputs = build.ok ? build.inputs : [...new Set([...entry.inputs, ...build.inputs])];
        entry.unresolved = build.unresolved;
        entry.cached = build.cached;
        if (build.ok) this.#warn(entry, build.warnings);
        first?.onBuilt?.(build);
      },
      explain: (failure, warnings) => failureHint(name, failure, warnings, entry.config.external),
      name,
      root: this.#options.root,
      source: entry.source,
      poolFor: (bundleFile) => this.#standby.take(entry.config, bundleFile) ?? this.#createPool(entry, bundleFile),
      warming: (pool, loading) => void (loading ? this.#warming.add(pool) : this.#warming.delete(pool)),
      cancelled: () => this.#closing,
    });
    const { outcome } = prepared;
    const ms = () => Math.round(performance.now() - started);
    if (outcome === 'cancelled') return shuttingDown(name);
    if (!outcome.ok) {
      if (entry.live === undefined) entry.problem = outcome.error;
      const keeping = entry.live ? ` (still serving the previous version)` : '';
      this.#options.logger.error(`✘ ${outcome.error.message}${keeping}\n${indent(outcome.report)}`);
      return { ok: false, error: outcome.error, ms: ms() };
    }

    const previous = entry.live;
    const version = entry.nextVersion++;
    const readyMs = ms();
    entry.live = { version, bundleFile: outcome.bundleFile, ownsBundle: outcome.ownsBundle, pool: outcome.pool, builtAt: new Date(), readyMs, fromCache: outcome.fromCache };
    entry.problem = undefined;
    if (previous !== undefined) {
      void this.#retired.retire(previous);
      // A function saved once is likely saved again: have the next version's thread start now.
      if (this.#options.standby) this.#standby.prepare(entry.config, () => this.#createPool(entry));
    }
    return { ok: true, version, ms: readyMs };
  }

  /** A pool for the function's current settings: for `bundleFile`, or a standby without it. */
  #createPool(entry: Entry, bundleFile?: string): FunctionPool {
    return new FunctionPool({
      name: entry.config.name,
      ...(bundleFile !== undefined && { bundleFile }),
      settings: entry.config,
      env: entry.config.env,
      type: entry.config.type,
      shared: this.#sharedMemory(entry),
      nodeEnv: this.#options.nodeEnv,
      invoke: this.#options.invoke ?? false,
      onIncident: (message) => this.#options.logger.error(message),
      explain: (failure) => failureHint(entry.config.name, failure, entry.warnings, entry.config.external),
      // A version that went live without a probe (minThreads 0 at start-up) finds out on its
      // first thread: it stays unavailable, with the reason, until a good build replaces it.
      onLoadFailure: (failure) => {
        if (this.#entries.get(entry.config.name) !== entry || entry.problem !== undefined) return;
        const failed = loadFailed(entry.config.name, failure, this.#options.root, failureHint(entry.config.name, failure, entry.warnings, entry.config.external));
        entry.problem = failed.error;
        this.#options.logger.error(`✘ ${failed.error.message}\n${indent(failed.report)}`);
      },
    });
  }

  /** Prints what the build found will likely break inside the bundle, once (again when it changes). */
  #warn(entry: Entry, warnings: readonly BundleWarning[]): void {
    entry.warnings = warnings;
    const text = warnings.map((warning) => `⚠ ${formatBundleWarning(entry.config.name, warning, entry.config.external)}`).join('\n');
    if (text !== entry.warned && text !== '') this.#options.logger.warn(text);
    entry.warned = text;
  }

  #sharedMemory(entry: Entry): SharedArrayBuffer | null {
    const size = entry.config.sharedMemory;
    if (size === 0) return (entry.shared = null);
    if (entry.shared === null || entry.shared.byteLength !== size) entry.shared = new SharedArrayBuffer(size);
    return entry.shared;
  }
}

function shuttingDown(name: string): DeployResult {
  return { ok: false, error: new FngateError('FNGATE_UNAVAILABLE', `${name} is shutting down`, { fn: name }), ms: 0 };
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}
