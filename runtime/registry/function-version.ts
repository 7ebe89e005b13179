import type { FngateError } from '../common/errors.js';
import type { FunctionPool } from '../pool/function-pool.js';

/** An immutable, serving build of a function: its bundle file and the pool running it. */
export interface FunctionVersion {
  readonly version: number;
  readonly bundleFile: string;
  /** The bundle is this version's own: deleted when the version retires (not a prebuilt one). */
  readonly ownsBundle: boolean;
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

/** A function as it is right now: the one projection that status, metrics and the CLI read. */
export interface LiveState {
  readonly name: string;
  /**
   * `serving`; `starting`: its first version is loading (requests wait for it); `unavailable`:
   * no good build, or it fails to load (see `problem`); `paused`: crash-loop back-off.
   */
  readonly state: 'serving' | 'starting' | 'unavailable' | 'paused';
  /** Why it is not serving (build or load error, crash loop), or null. */
  readonly problem: string | null;
  /** The serving version; null before the first good build. */
  readonly version: number | null;
  readonly builtAt: Date | null;
  /** Build plus warm-up of the serving version, ms. */
  readonly readyMs: number | null;
  readonly fromCache: boolean;
  /** Live threads of the serving version. */
  readonly threads: number;
  /** Threads running at least one request. */
  readonly busyThreads: number;
  /** Requests holding a thread slot. */
  readonly running: number;
  /** Requests waiting for one. */
  readonly queued: number;
  /** Requests one thread takes at once right now (the configured number, or what `auto` chose). */
  readonly perThread: number;
}
