import { BroadcastChannel } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { formatDuration } from '../config/units.js';
import { FngateError } from '../errors.js';
import { ANSWERED, Call, QUEUED, RUNNING, onCallTimeout, onKillGraceOver, type CallOwner } from './call.js';
import {
  isTaskFailure,
  PROBE_ID,
  type AbortMessage,
  type FunctionWorkerData,
  type TaskEnvelope,
  type TaskFailure,
  type TaskOutcome,
  type TaskReply,
} from './protocol.js';
import { ThreadPool } from './thread-pool.js';
import { taskFailureError, threadDeathError } from './worker-failures.js';

export { Call } from './call.js';

export interface PoolSettings {
  readonly minThreads: number;
  readonly maxThreads: number;
  /** Milliseconds. */
  readonly idleTimeout: number;
  readonly maxQueue: number;
  /** Milliseconds, queue wait plus run. */
  readonly timeout: number;
  /** Bytes. */
  readonly memoryLimit: number;
}

export interface FunctionPoolOptions {
  readonly name: string;
  readonly version: number;
  /** Absolute path of the version's bundle. */
  readonly bundleFile: string;
  readonly settings: PoolSettings;
  /** The env declared in config. */
  readonly env: Readonly<Record<string, string>>;
  /** NODE_ENV inside the function: `development` in dev, `production` in start. */
  readonly nodeEnv: string;
  /** Something worth telling the user that no request will report (a crash outside a request, a back-off). */
  readonly onIncident?: (message: string) => void;
}

/** What the gateway gets back: the worker's reply plus the time it spent waiting for a thread. */
export interface Reply extends TaskReply {
  readonly queueMs: number;
}

/** The parts of a request the gateway provides; the pool adds the deadline. */
export type Invocation = Omit<TaskEnvelope, 'deadline'>;

/**
 * How long a timed-out handler gets, after its ctx.signal aborted, to stop on its own before
 * its thread is terminated. The client already has its 504 by then.
 */
export const KILL_GRACE_MS = 200;

/**
 * Threads dying outside any request this often mean the module kills every fresh thread (a timer
 * that throws at load, an 'error' event nobody listens to): piscina would respawn them in a busy
 * loop. The pool stops its threads instead and starts new ones after a back-off (1 s, doubling up
 * to 30 s); requests meanwhile get 503 with Retry-After.
 */
export const CRASH_LOOP = { crashes: 3, windowMs: 10_000, firstBackoffMs: 1000, maxBackoffMs: 30_000 } as const;

/**
 * One function version's pool. It keeps its own bounded FIFO queue in front of the threads so
 * that a full queue answers at once, a disconnected client's request is dropped before it runs,
 * and no task needs an AbortSignal. It answers every call exactly once: with the reply, or with
 * a coded error (timeout, crash, queue full, unavailable).
 */
export class FunctionPool implements CallOwner {
  readonly name: string;
  readonly version: number;
  readonly settings: PoolSettings;
  readonly #options: FunctionPoolOptions;
  readonly #control: BroadcastChannel;
  readonly #workerData: FunctionWorkerData;
  #threads: ThreadPool;
  readonly #queue: (Call | undefined)[] = [];
  #head = 0;
  #queued = 0;
  /** Calls handed to the threads whose thread slot is not released yet. */
  readonly #running = new Set<Call>();
  #closing = false;
  #idle: (() => void)[] = [];
  #crashTimes: number[] = [];
  /** Timeouts of requests no thread took, since a thread last took one. */
  #unplacedTimeouts = 0;
  #backoff: { until: number; reason: string; timer: NodeJS.Timeout } | undefined;
  #nextBackoffMs: number = CRASH_LOOP.firstBackoffMs;
  #completed = 0;
  readonly #failed = new Map<string, number>();

  constructor(options: FunctionPoolOptions) {
    this.name = options.name;
    this.version = options.version;
    this.settings = options.settings;
    this.#options = options;
    const controlChannel = `fngate:${options.name}:${options.version}:${process.pid}:${Math.random().toString(36).slice(2)}`;
    this.#control = new BroadcastChannel(controlChannel);
    this.#control.unref();
    this.#workerData = {
      bundle: pathToFileURL(options.bundleFile).href,
      name: options.name,
      env: options.env,
      controlChannel,
    };
    this.#threads = this.#createThreads();
  }

  /** Requests waiting for a thread. */
  get queued(): number {
    return this.#queued;
  }

  /** Requests on a thread (or handed over while a thread starts). */
  get running(): number {
    return this.#running.size;
  }

  /** Live threads. */
  get threads(): number {
    return this.#threads.size;
  }

  get completed(): number {
    return this.#completed;
  }

  /** Starts a request: at once if a thread is free, else queued, else 503 FNGATE_QUEUE_FULL. */
  submit(invocation: Invocation): Call {
    const envelope = invocation as TaskEnvelope;
    (envelope as { deadline: number }).deadline = Date.now() + this.settings.timeout;
    const call = new Call(this, envelope);
    if (this.#closing) {
      this.#fail(call, new FngateError('FNGATE_UNAVAILABLE', `${this.name} is shutting down`, { fn: this.name }));
    } else if (this.#backoff !== undefined) {
      this.#fail(call, this.#backoffError());
    } else if (this.#running.size < this.settings.maxThreads) {
      call.timer = setTimeout(onCallTimeout, this.settings.timeout, call);
      this.#dispatch(call);
    } else if (this.#queued < this.settings.maxQueue) {
      call.timer = setTimeout(onCallTimeout, this.settings.timeout, call);
      this.#queue.push(call);
      this.#queued++;
    } else {
      const { maxThreads, maxQueue } = this.settings;
      const message =
        maxQueue === 0
          ? `all ${maxThreads} threads of ${this.name} are busy and it has no queue (maxQueue: 0)`
          : `all ${maxThreads} threads of ${this.name} are busy and ${maxQueue} requests are already queued (maxQueue)`;
      this.#fail(call, new FngateError('FNGATE_QUEUE_FULL', message, { fn: this.name, retryAfter: 1 }));
    }
    return call;
  }

  /**
   * Loads the module on one thread and reports how that went: null when it is ready to serve,
   * else the load failure (the module threw, its thread died, or it did not finish loading
   * within the timeout).
   */
  async warm(): Promise<TaskFailure | null> {
    const timeoutMs = Math.max(this.settings.timeout, 10_000);
    const probe: TaskEnvelope = {
      id: PROBE_ID,
      method: 'GET',
      url: 'http://fngate.invalid/',
      headers: [],
      body: null,
      params: null,
      deadline: Date.now() + timeoutMs,
    };
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(resolve, timeoutMs, 'timeout');
    });
    try {
      const outcome = await Promise.race([this.#threads.run(probe, null), timedOut]);
      if (outcome === 'timeout') {
        const message = `the module did not finish loading within ${formatDuration(timeoutMs)}`;
        return { failure: 'load', name: 'Error', message, stack: undefined, runMs: 0 };
      }
      return isTaskFailure(outcome) ? outcome : null;
    } catch (error) {
      // The thread died while loading: process.exit() or an uncaught error at top level.
      const { name, message, stack } = error as Error;
      return { failure: 'load', name, message, stack, runMs: 0 };
    } finally {
      clearTimeout(timer);
    }
  }

  /** @internal The client disconnected (via Call.cancel). */
  cancel(call: Call): void {
    if (call.state === QUEUED) {
      this.#unqueue();
      this.#fail(call, new FngateError('FNGATE_CLIENT_CLOSED', 'the client disconnected while the request was queued', { fn: this.name }));
    } else if (call.state === RUNNING) {
      const message: AbortMessage = { abort: call.envelope.id, reason: 'disconnect' };
      this.#control.postMessage(message);
      this.#fail(call, new FngateError('FNGATE_CLIENT_CLOSED', 'the client disconnected while the request was running', { fn: this.name }));
    }
  }

  /**
   * Stops accepting, lets queued and running requests finish (unless `force`), then destroys the
   * threads. piscina's own close() was seen to kill running tasks when two or more threads were
   * busy, so we drain by our own count first.
   */
  async close(options: { force?: boolean } = {}): Promise<void> {
    this.#closing = true;
    if (this.#backoff !== undefined) clearTimeout(this.#backoff.timer);
    if (!options.force && (this.#running.size > 0 || this.#queued > 0)) {
      await new Promise<void>((resolve) => this.#idle.push(resolve));
    }
    this.#control.close();
    await this.#threads.destroy();
  }

  /** Completed and failed counts, for status and tests. */
  counters(): { completed: number; failed: Record<string, number> } {
    return { completed: this.#completed, failed: Object.fromEntries(this.#failed) };
  }

  /** @internal Timer callback: the call reached its deadline. */
  onTimeout(call: Call): void {
    if (call.state === QUEUED) {
      this.#unqueue();
      this.#fail(call, this.#timeoutError(true));
    } else if (call.state === RUNNING) {
      this.#fail(call, this.#timeoutError(false));
      if (call.threadId === -1 && ++this.#unplacedTimeouts >= CRASH_LOOP.crashes) {
        // No thread took the task in time. Under load a fresh thread can simply be slow to start;
        // only when this keeps happening with no task placed in between do threads not start at
        // all (and each task would hold its slot in piscina's queue forever).
        this.#startBackoff(`${this.#unplacedTimeouts} requests in a row timed out before any thread could take them`);
        return;
      }
      // ctx.signal aborted on the worker at the same deadline; give a cooperative handler a moment.
      // A task no thread has taken yet will not be run by the worker (it is past its deadline),
      // but it may be mid-placement: check again then too.
      call.timer = setTimeout(onKillGraceOver, KILL_GRACE_MS, call);
    }
  }

  /** @internal Timer callback: a timed-out handler did not stop by itself; stop its thread. */
  onKillGraceOver(call: Call): void {
    if (this.#running.has(call) && call.threadId !== -1 && call.threads === this.#threads) {
      this.#threads.kill(call.threadId, call.envelope.id);
    }
  }

  #createThreads(): ThreadPool {
    return new ThreadPool({
      workerData: this.#workerData,
      settings: this.settings,
      env: { NODE_ENV: this.#options.nodeEnv, ...this.#options.env },
      onIdleCrash: (error) => this.#onIdleCrash(error),
    });
  }

  #dispatch(call: Call): void {
    call.state = RUNNING;
    call.threads = this.#threads;
    this.#running.add(call);
    this.#threads.run(call.envelope, call).then(
      (outcome) => this.#onOutcome(call, outcome),
      (error: Error) => this.#onThreadDeath(call, error),
    );
  }

  #onOutcome(call: Call, outcome: TaskOutcome): void {
    if (!this.#release(call)) return;
    if (isTaskFailure(outcome)) {
      // A failure at the deadline is the timeout itself (a cooperative handler's ctx.signal, or
      // a task that reached its thread too late) even when our own timer has not fired yet.
      const timedOut = outcome.failure === 'expired' || Date.now() >= call.envelope.deadline;
      this.#fail(call, timedOut ? this.#timeoutError(false) : taskFailureError(this.name, outcome));
    } else if (call.state !== ANSWERED) {
      call.state = ANSWERED;
      clearTimeout(call.timer);
      this.#completed++;
      const totalMs = performance.now() - call.submittedAt;
      const reply = outcome as Reply;
      (reply as { queueMs: number }).queueMs = Math.max(0, Math.round((totalMs - outcome.runMs) * 100) / 100);
      call.resolve(reply);
    }
    this.#pump();
  }

  #onThreadDeath(call: Call, error: Error & { code?: string }): void {
    if (!this.#release(call)) return;
    const killedFor = call.threads === this.#threads ? this.#threads.killedFor(call.threadId) : undefined;
    this.#fail(
      call,
      threadDeathError(this.name, error, { memoryLimit: this.settings.memoryLimit, requestId: call.envelope.id, killedFor }),
    );
    this.#pump();
  }

  /** The call's thread slot is free again. False when it was already released (e.g. by a back-off). */
  #release(call: Call): boolean {
    if (!this.#running.delete(call)) return false;
    if (call.threadId !== -1) this.#unplacedTimeouts = 0; // a thread did take work
    if (call.state === ANSWERED) clearTimeout(call.timer); // a pending kill is moot now
    return true;
  }

  #fail(call: Call, error: FngateError): void {
    if (call.state === ANSWERED) return;
    call.state = ANSWERED;
    clearTimeout(call.timer);
    this.#failed.set(error.code, (this.#failed.get(error.code) ?? 0) + 1);
    call.reject(error);
  }

  #onIdleCrash(error: Error): void {
    this.#options.onIncident?.(`[${this.name}] a thread crashed outside any request: ${error.stack ?? error.message}`);
    const now = Date.now();
    this.#crashTimes = this.#crashTimes.filter((time) => now - time < CRASH_LOOP.windowMs);
    this.#crashTimes.push(now);
    if (this.#crashTimes.length >= CRASH_LOOP.crashes) {
      this.#startBackoff(
        `its threads crashed ${this.#crashTimes.length} times in ${formatDuration(CRASH_LOOP.windowMs)} outside any request (last: ${error.name}: ${error.message})`,
      );
    }
  }

  /** Stops every thread, answers what was waiting, and starts fresh threads after a pause. */
  #startBackoff(reason: string): void {
    if (this.#backoff !== undefined || this.#closing) return;
    const delay = this.#nextBackoffMs;
    this.#nextBackoffMs = Math.min(delay * 2, CRASH_LOOP.maxBackoffMs);
    const timer = setTimeout(() => {
      this.#backoff = undefined;
      this.#crashTimes = [];
      this.#unplacedTimeouts = 0;
      if (!this.#closing) this.#threads = this.#createThreads();
    }, delay);
    this.#backoff = { until: Date.now() + delay, reason, timer };
    this.#options.onIncident?.(`✘ ${this.name}: ${reason}; no new threads for ${formatDuration(delay)} (503 until then)`);

    const error = this.#backoffError();
    for (const call of this.#running) {
      this.#running.delete(call);
      this.#fail(call, new FngateError('FNGATE_WORKER_CRASHED', `its thread was stopped: ${reason}`, { fn: this.name }));
    }
    for (let i = this.#head; i < this.#queue.length; i++) {
      const call = this.#queue[i];
      if (call?.state === QUEUED) this.#fail(call, error);
    }
    this.#queue.length = 0;
    this.#head = 0;
    this.#queued = 0;
    void this.#threads.destroy();
    this.#pump();
  }

  #timeoutError(whileQueued: boolean): FngateError {
    const timeout = formatDuration(this.settings.timeout);
    const message = whileQueued
      ? `${this.name} waited ${timeout} in the queue without getting a thread (timeout ${timeout}, maxThreads ${this.settings.maxThreads})`
      : `${this.name} did not answer within its timeout (${timeout})`;
    return new FngateError('FNGATE_TIMEOUT', message, { fn: this.name });
  }

  #backoffError(): FngateError {
    const backoff = this.#backoff!;
    const seconds = Math.max(1, Math.ceil((backoff.until - Date.now()) / 1000));
    return new FngateError('FNGATE_UNAVAILABLE', `${this.name} is paused: ${backoff.reason}; retrying in ${seconds} s`, {
      fn: this.name,
      retryAfter: seconds,
    });
  }

  /** A queued call leaves early; its slot is skipped when the queue reaches it (it is answered by then). */
  #unqueue(): void {
    this.#queued--;
    if (this.#queued === 0) {
      this.#queue.length = 0;
      this.#head = 0;
    }
  }

  #pump(): void {
    while (this.#queued > 0 && this.#running.size < this.settings.maxThreads) {
      const call = this.#queue[this.#head];
      this.#queue[this.#head++] = undefined;
      if (call === undefined || call.state !== QUEUED) continue;
      this.#queued--;
      this.#dispatch(call);
    }
    if (this.#queued === 0) {
      this.#queue.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    }
    if (this.#running.size === 0 && this.#queued === 0 && this.#idle.length > 0) {
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }
}
