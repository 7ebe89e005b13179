import { FunctionBuilder, removeBundle } from './build/function-builder.js';
import type { ResolvedFunction } from './config/resolve-config.js';
import { FngateError } from './errors.js';
import type { Logger } from './log.js';
import { FunctionPool, type Call, type Invocation } from './pool/function-pool.js';

/** An immutable, serving build of a function: its bundle file and the pool running it. */
export interface FunctionVersion {
  readonly version: number;
  readonly bundleFile: string;
  readonly pool: FunctionPool;
  readonly builtAt: Date;
  /** Build plus warm-up, milliseconds. */
  readonly readyMs: number;
}

export type DeployResult =
  | { readonly ok: true; readonly version: number; readonly ms: number }
  | { readonly ok: false; readonly error: FngateError };

export interface RegistryOptions {
  readonly root: string;
  /** Where bundles are written. */
  readonly outDir: string;
  /** NODE_ENV inside functions. */
  readonly nodeEnv: string;
  readonly logger: Logger;
}

interface Entry {
  config: ResolvedFunction;
  readonly builder: FunctionBuilder;
  live: FunctionVersion | undefined;
  /** Why there is no live version (build error, load failure). */
  problem: FngateError | undefined;
  /** Project files the latest build attempt included. */
  inputs: readonly string[];
  readonly retiring: Set<Promise<void>>;
  /** Deploys of one function run one after another, so versions never go backwards. */
  chain: Promise<unknown>;
  nextVersion: number;
}

/**
 * The live map from function name to its serving version. A deploy builds a new version, warms
 * it with one probe, and swaps it in with one assignment; the old version drains in the
 * background (its in-flight requests finish there), then its pool and bundle are removed.
 */
export class FunctionRegistry {
  readonly #options: RegistryOptions;
  readonly #entries = new Map<string, Entry>();

  constructor(options: RegistryOptions) {
    this.#options = options;
  }

  /** Registers a function and deploys its first version. Never throws for user errors. */
  async add(config: ResolvedFunction): Promise<DeployResult> {
    const builder = await FunctionBuilder.create({
      name: config.name,
      entry: config.file,
      root: this.#options.root,
      outDir: this.#options.outDir,
    });
    const entry: Entry = {
      config,
      builder,
      live: undefined,
      problem: undefined,
      inputs: [config.file],
      retiring: new Set(),
      chain: Promise.resolve(),
      nextVersion: 1,
    };
    this.#entries.set(config.name, entry);
    return this.deploy(config.name);
  }

  /** Builds and swaps in a new version; the current one keeps serving if anything fails. */
  deploy(name: string): Promise<DeployResult> {
    const entry = this.#entries.get(name);
    if (entry === undefined) return Promise.reject(new Error(`unknown function ${name}`));
    const next = entry.chain.then(() => this.#deploy(entry));
    entry.chain = next.catch(() => {});
    return next;
  }

  /** Starts a request on the function's live version. Throws FNGATE_UNAVAILABLE when there is none. */
  invoke(name: string, invocation: Invocation): Call {
    const entry = this.#entries.get(name);
    const live = entry?.live;
    if (live === undefined) {
      throw entry?.problem ?? new FngateError('FNGATE_UNAVAILABLE', `${name} is not loaded`, { fn: name });
    }
    return live.pool.submit(invocation);
  }

  /** The serving version, if any. */
  live(name: string): FunctionVersion | undefined {
    return this.#entries.get(name)?.live;
  }

  /** Why the function is not serving, if it is not. */
  problem(name: string): FngateError | undefined {
    return this.#entries.get(name)?.problem;
  }

  /** Closes every pool (letting in-flight requests finish unless `force`), and every esbuild context. */
  async close(options: { force?: boolean } = {}): Promise<void> {
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.allSettled(
      entries.map(async (entry) => {
        await entry.chain;
        const live = entry.live;
        entry.live = undefined;
        await Promise.allSettled([
          entry.builder.dispose(),
          live ? this.#retire(entry, live, options.force ?? false) : undefined,
          ...entry.retiring,
        ]);
      }),
    );
  }

  async #deploy(entry: Entry): Promise<DeployResult> {
    const { name } = entry.config;
    const started = performance.now();
    const build = await entry.builder.build();
    entry.inputs = build.inputs;
    if (!build.ok) {
      const error = new FngateError('FNGATE_UNAVAILABLE', `${name} failed to build: ${build.message}`, { fn: name, detail: build.report });
      return this.#rejected(entry, error, build.report);
    }

    const version = entry.nextVersion++;
    const pool = new FunctionPool({
      name,
      version,
      bundleFile: build.bundleFile,
      settings: entry.config,
      env: entry.config.env,
      nodeEnv: this.#options.nodeEnv,
      onWorkerError: (error) => this.#options.logger.error(`[${name}] worker crashed outside a request: ${error.stack ?? error.message}`),
    });
    const failure = await pool.warm();
    if (failure !== null) {
      await pool.close({ force: true });
      await removeBundle(build.bundleFile);
      const error = new FngateError('FNGATE_UNAVAILABLE', `${name} failed to load: ${failure.name}: ${failure.message}`, {
        fn: name,
        detail: failure.stack,
      });
      return this.#rejected(entry, error, failure.stack ?? `${failure.name}: ${failure.message}`);
    }

    const previous = entry.live;
    const readyMs = Math.round(performance.now() - started);
    entry.live = { version, bundleFile: build.bundleFile, pool, builtAt: new Date(), readyMs };
    entry.problem = undefined;
    if (previous !== undefined) {
      const retiring = this.#retire(entry, previous, false);
      entry.retiring.add(retiring);
      void retiring.finally(() => entry.retiring.delete(retiring));
    }
    return { ok: true, version, ms: readyMs };
  }

  #rejected(entry: Entry, error: FngateError, report: string): DeployResult {
    if (entry.live === undefined) entry.problem = error;
    const keeping = entry.live ? ` (still serving version ${entry.live.version})` : '';
    this.#options.logger.error(`✘ ${error.message}${keeping}\n${indent(report)}`);
    return { ok: false, error };
  }

  async #retire(entry: Entry, version: FunctionVersion, force: boolean): Promise<void> {
    await version.pool.close({ force });
    await removeBundle(version.bundleFile);
  }
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}
