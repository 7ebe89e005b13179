import type { TaskReply } from './reply.js';

/**
 * Worker -> main thread: the handler threw or returned garbage (`function`), the module failed
 * to load (`load`), or the task reached a thread after its deadline and was not run (`expired`).
 * Errors do not cross threads with their fields intact, so the worker sends these plain fields.
 */
export interface TaskFailure {
  readonly failure: 'function' | 'load' | 'expired';
  readonly name: string;
  readonly message: string;
  /** Source-mapped stack (workers run with --enable-source-maps). */
  readonly stack: string | undefined;
  readonly runMs: number;
}

/** What a task answers: a reply, or a failure the worker caught. */
export type TaskOutcome = TaskReply | TaskFailure;

export function isTaskFailure(outcome: TaskOutcome): outcome is TaskFailure {
  return !Array.isArray(outcome);
}

/**
 * Why a thread died under a task, told by the pool's thread layer (which alone reads its
 * library's messages) to everything above it.
 * - `out-of-memory`: the thread passed its memoryLimit.
 * - `exit`: the thread exited (process.exit() in user code, or our own termination of it).
 * - `stopped`: its thread pool was being destroyed (a reload's old version, a crash-loop pause).
 * - `crash`: anything else (an uncaught error on the thread).
 */
export type ThreadDeath =
  | { readonly cause: 'out-of-memory'; readonly error: Error }
  | { readonly cause: 'exit'; readonly exitCode: number }
  | { readonly cause: 'stopped' }
  | { readonly cause: 'crash'; readonly error: Error };
