import type { ResolvedFunction } from '../config/resolve-config.js';
import type { FunctionPool } from '../pool/function-pool.js';

/**
 * Hot reload: once a function has been reloaded, a standby pool whose threads have already
 * started waits for its next version's bundle (about 30 ms of thread start-up off every save
 * after the first, for minThreads idle threads per function being edited). A standby fits the
 * next version only if it was made with the same thread settings.
 */
export class StandbyPools {
  readonly #pools = new Map<string, { readonly pool: FunctionPool; readonly key: string }>();

  /** Starts a standby for `config` unless the function has one. */
  prepare(config: ResolvedFunction, create: () => FunctionPool): void {
    if (this.#pools.has(config.name) || config.minThreads === 0) return;
    this.#pools.set(config.name, { pool: create(), key: poolKey(config) });
  }

  /** The function's standby with `bundleFile` given to it, if there is one made with these settings. */
  take(config: ResolvedFunction, bundleFile: string): FunctionPool | undefined {
    const standby = this.#pools.get(config.name);
    this.#pools.delete(config.name);
    if (standby === undefined) return undefined;
    // The settings changed since it was made (a config.yaml edit): its threads are the wrong ones.
    if (standby.key !== poolKey(config)) {
      void standby.pool.close({ force: true });
      return undefined;
    }
    standby.pool.adopt(bundleFile);
    return standby.pool;
  }

  /** Stops the function's standby, if it has one. */
  drop(name: string): Promise<void> | undefined {
    const standby = this.#pools.get(name);
    this.#pools.delete(name);
    return standby?.pool.close({ force: true });
  }
}

/** What a function's threads are made with: a standby pool fits a version with the same. */
function poolKey(config: ResolvedFunction): string {
  const { minThreads, maxThreads, idleTimeout, maxQueue, timeout, memoryLimit, concurrency, env, type, sharedMemory } = config;
  return JSON.stringify([minThreads, maxThreads, idleTimeout, maxQueue, timeout, memoryLimit, concurrency, env, type, sharedMemory]);
}
