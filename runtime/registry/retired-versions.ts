import { removeBundle } from '../bundle/bundle-dir.js';
import type { FunctionVersion } from './function-version.js';

export interface DrainOptions {
  /** Stop at once, without waiting for in-flight requests. */
  readonly force?: boolean;
  /** Wait at most this long (ms) for in-flight requests. */
  readonly graceMs?: number;
}

/**
 * Versions that no longer serve (after a reload, a removal, or at shutdown), while they drain:
 * their in-flight requests (and streams, and waitUntil work) finish there, then the pool and the
 * bundle go. Retiring a version again only shortens its wait.
 */
export class RetiredVersions {
  readonly #draining = new Map<FunctionVersion, Promise<void>>();

  retire(version: FunctionVersion, options: DrainOptions = {}): Promise<void> {
    const draining = this.#draining.get(version);
    if (draining !== undefined) {
      void version.pool.close(options);
      return draining;
    }
    const retired = (async () => {
      await version.pool.close(options);
      if (version.ownsBundle) await removeBundle(version.bundleFile);
    })();
    this.#draining.set(version, retired);
    void retired.finally(() => this.#draining.delete(version));
    return retired;
  }

  /** Bounds the wait of every version still draining by `options`, and resolves when all are gone. */
  async closeAll(options: DrainOptions): Promise<void> {
    await Promise.allSettled([...this.#draining.keys()].map((version) => this.retire(version, options)));
  }
}
