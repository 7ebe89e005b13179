import { removeBundle, type FunctionBuilder } from '../bundle/function-builder.js';
import { FngateError } from '../common/errors.js';
import { frameFromStack } from '../common/code-frame.js';
import type { FunctionPool } from '../pool/function-pool.js';

/** A version ready to serve: built, loaded on a thread, not yet swapped in. */
export interface ReadyVersion {
  readonly ok: true;
  readonly bundleFile: string;
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
  readonly builder: FunctionBuilder;
  /** A pool for the bundle: a standby's, or a new one. */
  readonly poolFor: (bundleFile: string) => FunctionPool;
  /** Told when the pool's module starts and stops loading (so shutdown can stop a module that hangs). */
  readonly warming: (pool: FunctionPool, loading: boolean) => void;
  /** Shutdown began while this deploy ran: stop and serve nothing. */
  readonly cancelled: () => boolean;
}

/**
 * Builds a function's next version and warms it with one probe. Nothing serves it yet: the
 * registry swaps it in. A failed build or warm-up leaves nothing behind (pool closed, bundle
 * deleted); `inputs` reports what the build read either way, so the watcher can follow it.
 */
export async function prepareVersion(
  steps: PrepareSteps,
): Promise<PreparedVersion> {
  const { name, root, builder } = steps;
  let build;
  try {
    build = await builder.build();
  } catch (error) {
    // Not a build error of the function's code (those come back as a failure): something went
    // wrong around it. The function is unavailable, saying why; the server goes on.
    const err = error instanceof Error ? error : new Error(String(error));
    const failure = new FngateError('FNGATE_UNAVAILABLE', `${name} failed to build: ${err.message}`, { fn: name, detail: err.stack });
    return { outcome: { ok: false, error: failure, report: err.stack ?? err.message }, built: false, inputs: [], unresolved: false };
  }
  if (!build.ok) {
    const error = new FngateError('FNGATE_UNAVAILABLE', `${name} failed to build: ${build.message}`, { fn: name, detail: build.report });
    return { outcome: { ok: false, error, report: build.report }, built: false, inputs: build.inputs, unresolved: build.unresolved };
  }
  const pool = steps.poolFor(build.bundleFile);
  steps.warming(pool, true);
  const failure = await pool.warm();
  steps.warming(pool, false);
  const discard = async () => {
    await pool.close({ force: true });
    await removeBundle(build.bundleFile);
  };
  if (steps.cancelled()) {
    // Shutting down: the warm-up was cut short; nothing to report.
    await discard();
    return { outcome: 'cancelled', built: true, inputs: build.inputs, unresolved: false };
  }
  if (failure !== null) {
    await discard();
    const error = new FngateError('FNGATE_UNAVAILABLE', `${name} failed to load: ${failure.name}: ${failure.message}`, {
      fn: name,
      detail: failure.stack,
    });
    const frame = frameFromStack(failure.stack, root);
    const report = [frame, failure.stack ?? `${failure.name}: ${failure.message}`].filter(Boolean).join('\n');
    return { outcome: { ok: false, error, report }, built: true, inputs: build.inputs, unresolved: false };
  }
  return { outcome: { ok: true, bundleFile: build.bundleFile, pool, fromCache: build.cached }, built: true, inputs: build.inputs, unresolved: false };
}
