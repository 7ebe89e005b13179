import { formatDuration, formatSize } from '../config/units.js';
import { FngateError } from '../common/errors.js';
import { OWN_CODE_DIRS } from '../common/runtime-files.js';
import type { TaskFailure, ThreadDeath } from '../protocol/failure.js';

/** Every error a function pool answers with, worded in one place. */

/**
 * A failure the worker reported before the deadline: the handler threw or returned garbage, or the
 * module failed to load. `hint` says how to fix it, when the runtime knows (a package to leave unbundled).
 */
export function taskFailureError(fn: string, failure: TaskFailure, hint?: string): FngateError {
  const fix = hint === undefined ? '' : `\n${hint}`;
  if (failure.failure === 'load') {
    return new FngateError('FNGATE_UNAVAILABLE', `${fn} failed to load: ${failure.name}: ${failure.message}${fix}`, {
      fn,
      detail: failure.stack,
    });
  }
  return new FngateError('FNGATE_FUNCTION_ERROR', `${failure.name}: ${failure.message}${fix}`, { fn, detail: userFrames(failure.stack) });
}

/** A handler's stack without the frames of fngate and piscina that called it. */
function userFrames(stack: string | undefined): string | undefined {
  return stack
    ?.split('\n')
    .filter((line) => !/^\s+at /.test(line) || !(OWN_CODE_DIRS.some((dir) => line.includes(dir)) || /[\\/]node_modules[\\/]piscina[\\/]/.test(line)))
    .join('\n');
}

/**
 * The thread died under a request: out of memory, process.exit(), an uncaught error (a timer
 * that threw, a promise rejection nobody handled), or our own termination of a thread whose
 * request (`killedFor`) ran past its timeout.
 */
export function threadDeathError(
  fn: string,
  death: ThreadDeath,
  context: { memoryLimit: number; requestId: number; killedFor: number | undefined },
  hint?: string,
): FngateError {
  switch (death.cause) {
    case 'out-of-memory':
      return new FngateError(
        'FNGATE_OUT_OF_MEMORY',
        `${fn} ran out of memory (memoryLimit ${formatSize(context.memoryLimit)}); its thread was replaced`,
        { fn, detail: death.error.stack },
      );
    case 'exit':
      if (context.killedFor !== undefined && context.killedFor !== context.requestId) {
        return new FngateError(
          'FNGATE_WORKER_CRASHED',
          `the thread running this request was terminated because request ${context.killedFor} on it exceeded its timeout`,
          { fn },
        );
      }
      return new FngateError('FNGATE_WORKER_CRASHED', `the worker thread exited with code ${death.exitCode} (process.exit?); it was replaced`, { fn });
    case 'stopped':
      return new FngateError('FNGATE_WORKER_CRASHED', `the function's threads were stopped while the request ran`, { fn });
    case 'crash':
      return new FngateError('FNGATE_WORKER_CRASHED', `the worker thread crashed: ${death.error.name}: ${death.error.message}; it was replaced${hint === undefined ? '' : `\n${hint}`}`, {
        fn,
        detail: death.error.stack,
      });
  }
}

/** The module could not be loaded on a fresh thread: the thread died while loading it. */
export function loadDeathFailure(death: ThreadDeath): TaskFailure {
  // piscina's own stack says nothing about the user's module.
  if (death.cause === 'exit') {
    return loadFailure(`its thread exited with code ${death.exitCode} while loading the module (process.exit?)`);
  }
  if (death.cause === 'stopped') return loadFailure('the pool was stopped before the module finished loading');
  return { failure: 'load', name: death.error.name, message: death.error.message, stack: death.error.stack, runMs: 0 };
}

export function loadFailure(message: string): TaskFailure {
  return { failure: 'load', name: 'Error', message, stack: undefined, runMs: 0 };
}

export function timeoutError(fn: string, timeout: number, maxThreads: number, beforeRunning: boolean): FngateError {
  const shown = formatDuration(timeout);
  const message = beforeRunning
    ? `${fn} waited ${shown} in the queue without getting a thread (timeout ${shown}, maxThreads ${maxThreads})`
    : `${fn} did not answer within its timeout (${shown})`;
  return new FngateError('FNGATE_TIMEOUT', message, { fn });
}

export function queueFullError(fn: string, maxThreads: number, maxQueue: number): FngateError {
  const message =
    maxQueue === 0
      ? `all ${maxThreads} threads of ${fn} are busy and it has no queue (maxQueue: 0)`
      : `all ${maxThreads} threads of ${fn} are busy and ${maxQueue} requests are already queued (maxQueue)`;
  return new FngateError('FNGATE_QUEUE_FULL', message, { fn, retryAfter: 1 });
}

export function pausedError(fn: string, reason: string, seconds: number): FngateError {
  return new FngateError('FNGATE_UNAVAILABLE', `${fn} is paused: ${reason}; retrying in ${seconds} s`, { fn, retryAfter: seconds });
}

export function clientClosedError(fn: string, stage: 'queued' | 'running'): FngateError {
  return new FngateError('FNGATE_CLIENT_CLOSED', `the client disconnected while the request was ${stage}`, { fn });
}
