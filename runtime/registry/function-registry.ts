import { BuildCache } from '../bundle/build-cache.js';
import { FunctionBuilder, removeBundle } from '../bundle/function-builder.js';
import type { ResolvedFunction } from '../config/resolve-config.js';
import { FngateError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { FunctionPool, type Job } from '../pool/function-pool.js';
import type { TaskEnvelope } from '../protocol/messages.js';
import { frameFromStack } from '../common/code-frame.js';

/** An immutable, serving build of a function: its bundle file and the pool running it. */
export interface FunctionVersion {
  readonly version: number;
  readonly bundleFile: string;
  readonly pool: FunctionPool;
  readonly builtAt: Date;
  /** Build plus warm-up, milliseconds. */
  readonly readyMs: number;
  /** The bundle came from the build cache (an earlier run built the same inputs). */
  readonly fromCache: boolean;
}

export type DeployResult =
  | { readonly ok: true; readonly version: number; readonly ms: number }
  | { readonly ok: false; readonly error: FngateError; readonly ms: number };

export interface RegistryOptions {
  readonly root: string;
  /** Where bundles are written. */
  readonly outDir: string;
  /** NODE_ENV inside functions. */
  readonly nodeEnv: string;
  /** Pools for `fngate invoke` (see FunctionWorkerData.invoke). @default false */
  readonly invoke?: boolean;
  /**
   * Hot reload: once a function has been reloaded, keep a standby pool whose thread has already
   * started, for its next reload (about 30 ms of thread start-up off every save after the
   * first, for minThreads idle threads per function being edited). @default false
   */
  readonly standby?: boolean;
  readonly logger: Logger;
  /** A deploy after a function's first one finished, swapped in or not. */
  readonly onReload?: (name: string, result: DeployResult) => void;
}

interface Entry {
  config: ResolvedFunction;
  builder: FunctionBuilder;
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
  /** A pool whose threads are up, waiting for the next version's bundle, and poolKey() of the settings it was made with. */
  standby: { readonly pool: FunctionPool; readonly key: string } | undefined;
}

/**
 * The live map from function name to its serving version. A deploy builds a new version, warms
 * it with one probe, and swaps it in with one assignment; the old version drains in the
 * background (its in-flight requests finish there), then its pool and bundle are removed.
 * A failed build or warm-up leaves the serving version in place.
 */
export class FunctionRegistry {
  readonly #options: RegistryOptions;
  readonly #cache: BuildCache;
  readonly #entries = new Map<string, Entry>();
  /** Removed functions still draining. */
  readonly #removing = new Set<Promise<void>>();
  /** Versions that no longer serve, draining (after a reload or a removal): close() bounds their wait too. */
  readonly #draining = new Map<FunctionVersion, Promise<void>>();
  /** Pools of versions being warmed up: close() stops them rather than waiting for a module that hangs. */
  readonly #warming = new Set<FunctionPool>();
  #closing = false;

  constructor(options: RegistryOptions) {
    this.#options = options;
    this.#cache = new BuildCache(options.root);
  }

  /** Registers a function and deploys its first version. Never throws for user errors. */
  async add(config: ResolvedFunction): Promise<DeployResult> {
    const entry: Entry = {
      config,
      builder: await this.#createBuilder(config),
      live: undefined,
      problem: undefined,
      inputs: [config.file],
      unresolved: false,
      chain: Promise.resolve(),
      nextVersion: 1,
      shared: null,
      standby: undefined,
    };
    this.#entries.set(config.name, entry);
    return this.#enqueue(entry, () => this.#deploy(entry));
  }

  /** Rebuilds from the current sources and swaps in the result; the serving version stays on failure. */
  deploy(name: string): Promise<DeployResult> {
    const entry = this.#get(name);
    return this.#reported(name, this.#enqueue(entry, () => this.#deploy(entry)));
  }

  /** New settings (or a new file) for a function: deploys a new version with them. */
  update(config: ResolvedFunction): Promise<DeployResult> {
    const entry = this.#get(config.name);
    return this.#reported(config.name, this.#enqueue(entry, async () => {
      if (config.file !== entry.config.file) {
        await entry.builder.dispose();
        entry.builder = await this.#createBuilder(config);
        entry.inputs = [config.file];
      }
      entry.config = config;
      return this.#deploy(entry);
    }));
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
    const removal = (async () => {
      await entry.chain;
      const live = entry.live;
      entry.live = undefined;
      await Promise.allSettled([entry.builder.dispose(), live ? this.#retire(live) : undefined, this.#dropStandby(entry)]);
    })();
    this.#removing.add(removal);
    void removal.finally(() => this.#removing.delete(removal));
    return removal;
  }

  /** Starts a request on the function's live version. Throws FNGATE_UNAVAILABLE when there is none. */
  invoke(name: string, envelope: TaskEnvelope): Job {
    const entry = this.#entries.get(name);
    const live = entry?.live;
    if (live === undefined) {
      throw entry?.problem ?? new FngateError('FNGATE_UNAVAILABLE', `${name} is not loaded`, { fn: name });
    }
    return live.pool.submit(envelope);
  }

  /** The serving version, if any. */
  live(name: string): FunctionVersion | undefined {
    return this.#entries.get(name)?.live;
  }

  /** Why the function is not serving, if it is not. */
  problem(name: string): FngateError | undefined {
    return this.#entries.get(name)?.problem;
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
  async close(options: { force?: boolean; graceMs?: number } = {}): Promise<void> {
    this.#closing = true;
    for (const pool of this.#warming) void pool.close({ force: true });
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    const closing = Promise.allSettled([
      ...this.#removing,
      ...entries.map(async (entry) => {
        await entry.chain;
        const live = entry.live;
        entry.live = undefined;
        await Promise.allSettled([entry.builder.dispose(), live ? this.#retire(live, options) : undefined, this.#dropStandby(entry)]);
      }),
    ]);
    // Old versions still draining (a stream that outlived a reload) get the same bound.
    for (const version of this.#draining.keys()) void this.#retire(version, options);
    await closing;
    await Promise.allSettled([...this.#draining.keys()].map((version) => this.#retire(version, options)));
  }

  #get(name: string): Entry {
    const entry = this.#entries.get(name);
    if (entry === undefined) throw new Error(`unknown function ${name}`);
    return entry;
  }

  #createBuilder(config: ResolvedFunction): Promise<FunctionBuilder> {
    return FunctionBuilder.create({
      name: config.name,
      entry: config.file,
      root: this.#options.root,
      outDir: this.#options.outDir,
      cache: this.#cache,
    });
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

  async #deploy(entry: Entry): Promise<DeployResult> {
    const { name } = entry.config;
    if (this.#closing) return shuttingDown(name);
    const started = performance.now();
    const build = await entry.builder.build();
    entry.inputs = build.ok ? build.inputs : [...new Set([...entry.inputs, ...build.inputs])];
    entry.unresolved = !build.ok && build.unresolved;
    if (!build.ok) {
      const error = new FngateError('FNGATE_UNAVAILABLE', `${name} failed to build: ${build.message}`, { fn: name, detail: build.report });
      return this.#rejected(entry, error, build.report, started);
    }

    const version = entry.nextVersion++;
    const pool = this.#takeStandby(entry, build.bundleFile) ?? this.#createPool(entry, build.bundleFile);
    this.#warming.add(pool);
    const failure = await pool.warm();
    this.#warming.delete(pool);
    if (this.#closing) {
      // Shutting down: the warm-up was cut short; nothing to report.
      await pool.close({ force: true });
      await removeBundle(build.bundleFile);
      return shuttingDown(name);
    }
    if (failure !== null) {
      await pool.close({ force: true });
      await removeBundle(build.bundleFile);
      const error = new FngateError('FNGATE_UNAVAILABLE', `${name} failed to load: ${failure.name}: ${failure.message}`, {
        fn: name,
        detail: failure.stack,
      });
      const frame = frameFromStack(failure.stack, this.#options.root);
      const report = [frame, failure.stack ?? `${failure.name}: ${failure.message}`].filter(Boolean).join('\n');
      return this.#rejected(entry, error, report, started);
    }

    const previous = entry.live;
    const readyMs = Math.round(performance.now() - started);
    entry.live = { version, bundleFile: build.bundleFile, pool, builtAt: new Date(), readyMs, fromCache: build.cached };
    entry.problem = undefined;
    if (previous !== undefined) void this.#retire(previous);
    // A function saved once is likely saved again: have the next version's thread start now.
    if (this.#options.standby && previous !== undefined && entry.standby === undefined && entry.config.minThreads > 0) {
      entry.standby = { pool: this.#createPool(entry), key: poolKey(entry.config) };
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
    });
  }

  /** The standby pool with `bundleFile` given to it, if there is one made with the current settings. */
  #takeStandby(entry: Entry, bundleFile: string): FunctionPool | undefined {
    const standby = entry.standby;
    entry.standby = undefined;
    if (standby === undefined) return undefined;
    // The settings changed since it was made (a config.yaml edit): its threads are the wrong ones.
    if (standby.key !== poolKey(entry.config)) {
      void standby.pool.close({ force: true });
      return undefined;
    }
    standby.pool.adopt(bundleFile);
    return standby.pool;
  }

  /** Stops the function's standby pool, if it has one. */
  #dropStandby(entry: Entry): Promise<void> | undefined {
    const standby = entry.standby;
    entry.standby = undefined;
    return standby?.pool.close({ force: true });
  }

  #sharedMemory(entry: Entry): SharedArrayBuffer | null {
    const size = entry.config.sharedMemory;
    if (size === 0) return (entry.shared = null);
    if (entry.shared === null || entry.shared.byteLength !== size) entry.shared = new SharedArrayBuffer(size);
    return entry.shared;
  }

  #rejected(entry: Entry, error: FngateError, report: string, started: number): DeployResult {
    if (entry.live === undefined) entry.problem = error;
    const keeping = entry.live ? ` (still serving the previous version)` : '';
    this.#options.logger.error(`✘ ${error.message}${keeping}\n${indent(report)}`);
    return { ok: false, error, ms: Math.round(performance.now() - started) };
  }

  /**
   * Stops a version that no longer serves: its requests finish (within `graceMs`, or at once with
   * `force`), then its pool and bundle go. Retiring it again only shortens the wait.
   */
  #retire(version: FunctionVersion, options: { force?: boolean; graceMs?: number } = {}): Promise<void> {
    const draining = this.#draining.get(version);
    if (draining !== undefined) {
      void version.pool.close(options);
      return draining;
    }
    const retired = (async () => {
      await version.pool.close(options);
      await removeBundle(version.bundleFile);
    })();
    this.#draining.set(version, retired);
    void retired.finally(() => this.#draining.delete(version));
    return retired;
  }
}

function shuttingDown(name: string): DeployResult {
  return { ok: false, error: new FngateError('FNGATE_UNAVAILABLE', `${name} is shutting down`, { fn: name }), ms: 0 };
}

/** What a function's threads are made with: a standby pool fits a version with the same. */
function poolKey(config: ResolvedFunction): string {
  const { minThreads, maxThreads, idleTimeout, maxQueue, timeout, memoryLimit, concurrency, env, type, sharedMemory } = config;
  return JSON.stringify([minThreads, maxThreads, idleTimeout, maxQueue, timeout, memoryLimit, concurrency, env, type, sharedMemory]);
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}
