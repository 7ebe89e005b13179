/**
 * The Context a handler gets (`ctx`): its request's id, params, env, deadline and shared memory,
 * `signal`, `waitUntil`, and for a scheduled run the controller. Runs on the function's thread,
 * bundled with it (see task-handler.ts).
 */
import type { performance } from 'node:perf_hooks';
import { Envelope, type TaskEnvelope } from '../protocol/envelope.js';
import type { AbortMessage } from '../protocol/worker-data.js';
import type { Context, FunctionEnv, ScheduledController } from '../types/handler.js';
import { Continuation } from './continuation.js';

const EMPTY_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

/** The Context handed to handlers. `signal` is created on first access: most handlers never touch it. */
export class TaskContext implements Context {
  readonly name: string;
  readonly params: Readonly<Record<string, string>>;
  readonly env: FunctionEnv;
  readonly requestId: string;
  readonly deadline: number;
  readonly shared: SharedArrayBuffer | null;
  readonly props: Record<string, unknown> = {};
  readonly scheduled: ScheduledController | undefined;
  /** Which request this is on the thread (1, 2, ...). */
  startIndex = 0;
  /** Event-loop utilization when the request started, if it had the thread to itself then. */
  busySince: ReturnType<typeof performance.eventLoopUtilization> | undefined;
  /** The thread's CPU time (ms) at the start, when a priority check is armed. */
  cpuStart: number | undefined;
  readonly #deadline: number;
  #controller: AbortController | undefined;
  #timer: NodeJS.Timeout | undefined;
  #abortedBy: AbortMessage['reason'] | undefined;
  #continuation: Continuation | undefined;
  #replied = false;

  constructor(task: TaskEnvelope, name: string, env: FunctionEnv, shared: SharedArrayBuffer | null) {
    this.name = name;
    this.params = task[Envelope.params] ?? EMPTY_PARAMS;
    this.env = env;
    this.requestId = String(task[Envelope.id]);
    this.#deadline = task[Envelope.deadline];
    this.deadline = this.#deadline;
    this.shared = shared;
    const scheduled = task[Envelope.scheduled];
    this.scheduled = scheduled === undefined ? undefined : { cron: scheduled.cron, scheduledTime: scheduled.scheduledTime, type: 'scheduled', noRetry: () => {} };
  }

  /** The request's Continuation, created on first need (a streamed body, a waitUntil). Bound: replyFromResult calls it. */
  readonly continuation = (): Continuation => (this.#continuation ??= new Continuation(() => this.abort('disconnect')));

  waitUntil(promise: Promise<unknown>): void {
    if (typeof (promise as PromiseLike<unknown> | null)?.then !== 'function') {
      throw new TypeError('ctx.waitUntil() expects a promise');
    }
    if (!this.#replied) return this.continuation().track(promise);
    // After a plain reply there is no slot left to hold: the work still runs, failures are logged.
    Promise.resolve(promise).catch((error: unknown) => console.error(`a ctx.waitUntil() promise rejected: ${error instanceof Error ? error.stack : String(error)}`));
  }

  passThroughOnException(): void {}

  /** The reply is being sent: returns the Continuation that must travel with it, if any. */
  replied(): Continuation | undefined {
    this.#replied = true;
    return this.#continuation;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      const remaining = this.#deadline - Date.now();
      if (this.#abortedBy !== undefined) this.#fire(this.#abortedBy);
      // Once the reply is out the timeout no longer applies (a stream may outlive it): from then
      // on the signal aborts only when the client goes away.
      else if (this.#replied) return this.#controller.signal;
      else if (remaining <= 0) this.#fire('timeout');
      else this.#timer = setTimeout(() => this.abort('timeout'), remaining);
    }
    return this.#controller.signal;
  }

  /** From the gateway (timeout, client gone) or the deadline timer. */
  abort(reason: AbortMessage['reason']): void {
    if (this.#abortedBy !== undefined) return;
    this.#abortedBy = reason;
    if (this.#controller !== undefined) this.#fire(reason);
  }

  dispose(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }

  #fire(reason: AbortMessage['reason']): void {
    const error =
      reason === 'timeout'
        ? new DOMException(`fngate: ${this.name} reached its timeout`, 'TimeoutError')
        : new DOMException('fngate: the client disconnected', 'AbortError');
    this.#controller!.abort(error);
  }
}
