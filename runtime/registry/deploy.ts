import { removeBundle } from '../bundle/bundle-dir.js';
import type { BundleSource } from '../bundle/bundle-source.js';
import type { BundleWarning } from '../bundle/unbundlable.js';
import { FngateError } from '../common/errors.js';
import { frameFromStack } from '../common/code-frame.js';
import type { FunctionPool } from '../pool/function-pool.js';
import type { TaskFailure } from '../protocol/failure.js';

/** A version ready to serve: built, loaded on a thread, not yet swapped in. */
export interface ReadyVersion {
  readonly ok: true;
  readonly bundleFile: string;
  /** Delete the bundle when the version retires (false for fngate build's prebuilt bundles). */
  readonly ownsBundle: boolean;
  readonly pool: FunctionPool;
  readonly fromCache: boolean;
}

/** Why a deploy produced nothing to serve, with the report for the terminal. */
export interface FailedVersion {
  readonly ok: false;
  readonly error: FngateError;
  readonly report: string;
}

export interface PreparedVersion {
  readonly outcome: ReadyVersion | FailedVersion | 'cancelled';
  /** The build succeeded (the warm-up may still have failed). */
  readonly built: boolean;
  /** Project files the build read (on failure: the entry and the files with errors). */
  readonly inputs: readonly string[];
  /** The build failed on an import that did not resolve: a file that appears may fix it. */
  readonly unresolved: boolean;
}

export interface PrepareSteps {
  readonly name: string;
  readonly root: string;
  readonly source: BundleSource;
  /** A pool for the bundle: a standby's, or a new one. */
  readonly poolFor: (bundleFile: string) => FunctionPool;
  /** Told when the pool's module starts and stops loading (so shutdown can stop a module that hangs). */
  readonly warming: (pool: FunctionPool, loading: boolean) => void;
  /** Shutdown began while this deploy ran: stop and serve nothing. */
  readonly cancelled: () => boolean;
  /**
   * Load the module on a thread before the version may serve (a probe task). Without it the
   * version serves at once and its first request starts its first thread (minThreads 0 at
   * start-up: a module that fails to load is reported by that request).
   */
  readonly verify: boolean;
  /** The build is done (successfully or not), with the files it read; the pool and its warm-up come next. */
  readonly onBuilt?: (build: {
    readonly ok: boolean;
    readonly inputs: readonly string[];
    readonly unresolved: boolean;
    readonly cached: boolean;
    /** Bundled packages that will likely break inside the bundle (a successful build only). */
    readonly warnings: readonly BundleWarning[];
  }) => void;
  /** How to fix a module that failed to load, when the runtime can tell (with the build's warnings). */
  readonly explain?: (failure: TaskFailure, warnings: readonly BundleWarning[]) => string | undefined;
  /** Runs the pool's start and warm-up when it is this function's turn (start-up order). @default at once */
  readonly inTurn?: <T>(task: () => Promise<T>) => Promise<T>;
}

/**
 * Builds a function's next version and warms it with one probe. Nothing serves it yet: the
 * registry swaps it in. A failed build or warm-up leaves nothing behind (pool closed, bundle
 * deleted); `inputs` reports what the build read either way, so the watcher can follow it.
 */
export async function prepareVersion(
  steps: PrepareSteps,
): Promise<PreparedVersion> {
  const { name, root, source } = steps;
  let build;
  try {
    build = await source.build();
  } catch (error) {
    // Not a build error of the function's code (those come back as a failure): something went
    // wrong around it. The function is unavailable, saying why; the server goes on.
    const err = error instanceof Error ? error : new Error(String(error));
    const failure = new FngateError('FNGATE_UNAVAILABLE', `${name} failed to build: ${err.message}`, { fn: name, detail: err.stack });
    steps.onBuilt?.({ ok: false, inputs: [], unresolved: false, cached: false, warnings: [] });
    return { outcome: { ok: false, error: failure, report: err.stack ?? err.message }, built: false, inputs: [], unresolved: false };
  }
  steps.onBuilt?.({ ok: build.ok, inputs: build.inputs, unresolved: !build.ok && build.unresolved, cached: build.ok && build.cached, warnings: build.ok ? build.warnings : [] });
  if (!build.ok) {
    const error = new FngateError('FNGATE_UNAVAILABLE', `${name} failed to build: ${build.message}`, { fn: name, detail: build.report });
    return { outcome: { ok: false, error, report: build.report }, built: false, inputs: build.inputs, unresolved: build.unresolved };
  }
  const inTurn = steps.inTurn ?? ((task) => task());
  const outcome = await inTurn(async (): Promise<PreparedVersion['outcome']> => {
    if (steps.cancelled()) {
      if (build.owned) await removeBundle(build.bundleFile);
      return 'cancelled';
    }
    const pool = steps.poolFor(build.bundleFile);
    if (!steps.verify) return { ok: true, bundleFile: build.bundleFile, ownsBundle: build.owned, pool, fromCache: build.cached };
    steps.warming(pool, true);
    const failure = await pool.warm();
    steps.warming(pool, false);
    const discard = async () => {
      await pool.close({ force: true });
      if (build.owned) await removeBundle(build.bundleFile);
    };
    if (steps.cancelled()) {
      // Shutting down: the warm-up was cut short; nothing to report.
      await discard();
      return 'cancelled';
    }
    if (failure !== null) {
      await discard();
      return loadFailed(name, failure, root, steps.explain?.(failure, build.warnings));
    }
    return { ok: true, bundleFile: build.bundleFile, ownsBundle: build.owned, pool, fromCache: build.cached };
  });
  return { outcome, built: true, inputs: build.inputs, unresolved: false };
}

/** A module that threw (or whose thread died) while loading, as an error and a terminal report; `hint` says how to fix it. */
export function loadFailed(name: string, failure: TaskFailure, root: string, hint?: string): FailedVersion {
  const fix = hint === undefined ? '' : `\n${hint}`;
  const error = new FngateError('FNGATE_UNAVAILABLE', `${name} failed to load: ${failure.name}: ${failure.message}${fix}`, {
    fn: name,
    detail: failure.stack,
  });
  const frame = frameFromStack(failure.stack, root);
  const report = [frame, failure.stack ?? `${failure.name}: ${failure.message}`].filter(Boolean).join('\n');
  return { ok: false, error, report };
}
