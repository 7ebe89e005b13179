import { formatSize } from '../config/units.js';
import { FngateError } from '../common/errors.js';
import { OWN_CODE_DIRS } from '../common/runtime-files.js';
import type { TaskFailure } from '../protocol/messages.js';

/** A failure the worker reported before the deadline: the handler threw or returned garbage, or the module failed to load. */
export function taskFailureError(fn: string, failure: TaskFailure): FngateError {
  if (failure.failure === 'load') {
    return new FngateError('FNGATE_UNAVAILABLE', `${fn} failed to load: ${failure.name}: ${failure.message}`, {
      fn,
      detail: failure.stack,
    });
  }
  return new FngateError('FNGATE_FUNCTION_ERROR', `${failure.name}: ${failure.message}`, { fn, detail: userFrames(failure.stack) });
}

/** A handler's stack without the frames of fngate and piscina that called it. */
function userFrames(stack: string | undefined): string | undefined {
  return stack
    ?.split('\n')
    .filter((line) => !/^\s+at /.test(line) || !(OWN_CODE_DIRS.some((dir) => line.includes(dir)) || /[\\/]node_modules[\\/]piscina[\\/]/.test(line)))
    .join('\n');
}

/**
 * piscina rejected a task because its thread died: out of memory, process.exit(), an uncaught
 * error (a timer that threw, a promise rejection nobody handled), or our own termination of a
 * thread whose request (`killedFor`) ran past its timeout.
 */
export function threadDeathError(
  fn: string,
  error: Error & { code?: string },
  context: { memoryLimit: number; requestId: number; killedFor: number | undefined },
): FngateError {
  if (error.code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return new FngateError(
      'FNGATE_OUT_OF_MEMORY',
      `${fn} ran out of memory (memoryLimit ${formatSize(context.memoryLimit)}); its thread was replaced`,
      { fn, detail: error.stack },
    );
  }
  const exit = /worker exited with code: (-?\d+)/.exec(error.message);
  if (exit && context.killedFor !== undefined && context.killedFor !== context.requestId) {
    return new FngateError(
      'FNGATE_WORKER_CRASHED',
      `the thread running this request was terminated because request ${context.killedFor} on it exceeded its timeout`,
      { fn },
    );
  }
  if (exit) {
    return new FngateError('FNGATE_WORKER_CRASHED', `the worker thread exited with code ${exit[1]} (process.exit?); it was replaced`, {
      fn,
    });
  }
  return new FngateError('FNGATE_WORKER_CRASHED', `the worker thread crashed: ${error.name}: ${error.message}; it was replaced`, {
    fn,
    detail: error.stack,
  });
}
