import { BroadcastChannel } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { FngateError } from '../errors.js';
import { formatDuration, formatSize } from '../config/units.js';
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
  /** A worker failed outside any request (e.g. a timer threw after the response was sent). */
  readonly onWorkerError?: (error: Error) => void;
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

const QUEUED = 0;
const RUNNING = 1;
/** The client has its answer (reply, timeout or cancel); piscina may still hold the task. */
const ANSWERED = 2;
type State = typeof QUEUED | typeof RUNNING | typeof ANSWERED;

// piscina hands each task's `[queueOptionsSymbol]` value to the load balancer; we put the Call
// there to learn which thread runs it (symbol keys are not structured-cloned to the worker).
const kCall = Piscina.queueOptionsSymbol;

/** One request's journey through the pool. */
export class Call {
  readonly pool: FunctionPool;
  readonly envelope: TaskEnvelope;
  readonly promise: Promise<Reply>;
  readonly submittedAt = performance.now();
  state: State = QUEUED;
  /** The thread running the task, once piscina distributed it. */
  threadId = -1;
  /** piscina settled the task (the thread is free again, or dead). */
  released = false;
  timer: NodeJS.Timeout | undefined;
  resolve!: (reply: Reply) => void;
  reject!: (error: FngateError) => void;

  constructor(pool: FunctionPool, envelope: TaskEnvelope) {
    this.pool = pool;
    this.envelope = envelope;
    this.promise = new Promise<Reply>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /** The client went away: a queued call never runs; a running one sees ctx.signal abort. */
  cancel(): void {
    this.pool.cancel(this);
  }
}

/**
 * One Piscina pool for one version of one function. It keeps its own bounded FIFO queue in
 * front of piscina so that a full queue answers at once, a disconnected client's request is
 * dropped before it runs, and no task needs an AbortSignal (piscina never shares a thread with
 * an abortable task, and lets abortable tasks bypass its queue limit).
 */
export class FunctionPool {
  readonly name: string;
  readonly version: number;
  readonly settings: PoolSettings;
  readonly #piscina: Piscina;
  readonly #control: BroadcastChannel;
  readonly #capacity: number;
  readonly #onWorkerError: ((error: Error) => void) | undefined;
  readonly #queue: (Call | undefined)[] = [];
  #head = 0;
  #queued = 0;
  #running = 0;
  #closing = false;
  #idle: (() => void)[] = [];
  /** Threads we terminated -> the request id whose timeout caused it. */
  readonly #killed = new Map<number, number>();
  #completed = 0;
  readonly #failed = new Map<string, number>();

  constructor(options: FunctionPoolOptions) {
    this.name = options.name;
    this.version = options.version;
    this.settings = options.settings;
    this.#onWorkerError = options.onWorkerError;
    this.#capacity = options.settings.maxThreads;
    const controlChannel = `fngate:${options.name}:${options.version}:${process.pid}:${Math.random().toString(36).slice(2)}`;
    this.#control = new BroadcastChannel(controlChannel);
    this.#control.unref();
    const workerData: FunctionWorkerData = {
      bundle: pathToFileURL(options.bundleFile).href,
      name: options.name,
      env: options.env,
      controlChannel,
    };
    const killed = this.#killed;
    this.#piscina = new Piscina({
      filename: new URL('./worker-entry.mjs', import.meta.url).href,
      name: 'default',
      workerData,
      minThreads: options.settings.minThreads,
      maxThreads: options.settings.maxThreads,
      idleTimeout: options.settings.idleTimeout,
      // Our queue bounds what reaches piscina to the thread count; piscina only holds tasks while
      // threads start, and must never reject one.
      maxQueue: this.#capacity,
      concurrentTasksPerWorker: 1,
      // 'sync' parks idle threads in Atomics.wait: timers and streams stall between tasks.
      atomics: 'disabled',
      env: { NODE_ENV: options.nodeEnv, ...options.env },
      execArgv: ['--enable-source-maps'],
      resourceLimits: { maxOldGenerationSizeMb: Math.max(1, Math.round(options.settings.memoryLimit / 1024 / 1024)) },
      recordTiming: true,
      loadBalancer: (task, workers) => {
        // piscina's least-busy choice, skipping threads we are terminating, and recording the
        // thread so a timeout can stop exactly that one.
        let candidate = null;
        let usage = 1;
        for (const worker of workers) {
          if (worker.currentUsage < usage && !killed.has(worker.id) && !worker.terminating && !worker.destroyed) {
            candidate = worker;
            usage = worker.currentUsage;
            if (usage === 0) break;
          }
        }
        const call = (task as unknown as Record<symbol, Call | null>)[kCall];
        if (candidate !== null && call != null) call.threadId = candidate.id;
        return candidate;
      },
    });
    this.#piscina.on('error', (error: Error) => this.#onWorkerError?.(error));
  }

  /** Requests waiting for a thread. */
  get queued(): number {
    return this.#queued;
  }

  /** Requests on a thread (or handed to piscina while a thread starts). */
  get running(): number {
    return this.#running;
  }

  get threads(): number {
    return this.#piscina.threads.length;
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
    } else if (this.#running < this.#capacity) {
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
   * else the load failure (the module threw, or did not finish loading within the timeout).
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
      const outcome = await Promise.race([this.#piscina.run(probe) as Promise<TaskOutcome>, timedOut]);
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
   * Stops accepting, lets queued and running requests finish (unless `force`), then destroys
   * the threads. piscina's own close() was seen to kill running tasks when two or more threads
   * were busy, so we drain by our own count first.
   */
  async close(options: { force?: boolean } = {}): Promise<void> {
    this.#closing = true;
    if (!options.force && (this.#running > 0 || this.#queued > 0)) {
      await new Promise<void>((resolve) => this.#idle.push(resolve));
    }
    this.#control.close();
    await this.#piscina.destroy();
  }

  /** Completed and failed counts, for status and tests. */
  counters(): { completed: number; failed: Record<string, number> } {
    return { completed: this.#completed, failed: Object.fromEntries(this.#failed) };
  }

  #dispatch(call: Call): void {
    call.state = RUNNING;
    this.#running++;
    (call.envelope as unknown as Record<symbol, Call>)[kCall] = call;
    const body = call.envelope.body;
    const run = body === null ? this.#piscina.run(call.envelope) : this.#piscina.run(call.envelope, { transferList: [body] });
    run.then(
      (outcome: TaskOutcome) => this.#onOutcome(call, outcome),
      (error: Error) => this.#onWorkerFailure(call, error),
    );
  }

  #onOutcome(call: Call, outcome: TaskOutcome): void {
    this.#release(call);
    if (isTaskFailure(outcome)) {
      const error =
        outcome.failure === 'load'
          ? new FngateError('FNGATE_UNAVAILABLE', `${this.name} failed to load: ${outcome.name}: ${outcome.message}`, {
              fn: this.name,
              detail: outcome.stack,
            })
          : new FngateError('FNGATE_FUNCTION_ERROR', `${outcome.name}: ${outcome.message}`, { fn: this.name, detail: outcome.stack });
      this.#fail(call, error);
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

  /** piscina rejected the task: its thread died (exit, uncaught error, out of memory, our kill). */
  #onWorkerFailure(call: Call, error: Error & { code?: string }): void {
    this.#release(call);
    const exit = /worker exited with code: (-?\d+)/.exec(error.message);
    const killedFor = this.#killed.get(call.threadId);
    let failure: FngateError;
    if (error.code === 'ERR_WORKER_OUT_OF_MEMORY') {
      failure = new FngateError(
        'FNGATE_OUT_OF_MEMORY',
        `${this.name} ran out of memory (memoryLimit ${formatSize(this.settings.memoryLimit)}); its thread was replaced`,
        { fn: this.name, detail: error.stack },
      );
    } else if (exit && killedFor !== undefined && killedFor !== call.envelope.id) {
      failure = new FngateError(
        'FNGATE_WORKER_CRASHED',
        `the thread running this request was terminated because request ${killedFor} on it exceeded its timeout`,
        { fn: this.name },
      );
    } else if (exit) {
      failure = new FngateError('FNGATE_WORKER_CRASHED', `the worker thread exited with code ${exit[1]} (process.exit?); it was replaced`, {
        fn: this.name,
      });
    } else {
      failure = new FngateError('FNGATE_WORKER_CRASHED', `the worker thread crashed: ${error.name}: ${error.message}; it was replaced`, {
        fn: this.name,
        detail: error.stack,
      });
    }
    this.#fail(call, failure);
    this.#pump();
  }

  /** The task left piscina: its thread slot is free (or the thread is gone). */
  #release(call: Call): void {
    call.released = true;
    this.#running--;
    if (call.state === ANSWERED) clearTimeout(call.timer); // a pending kill is moot now
  }

  #fail(call: Call, error: FngateError): void {
    if (call.state === ANSWERED) return;
    call.state = ANSWERED;
    clearTimeout(call.timer);
    this.#failed.set(error.code, (this.#failed.get(error.code) ?? 0) + 1);
    call.reject(error);
  }

  /** @internal Timer callback: the call reached its deadline. */
  onTimeout(call: Call): void {
    if (call.state === QUEUED) {
      this.#unqueue();
      this.#fail(
        call,
        new FngateError(
          'FNGATE_TIMEOUT',
          `${this.name} waited ${formatDuration(this.settings.timeout)} in the queue without getting a thread (timeout ${formatDuration(this.settings.timeout)}, maxThreads ${this.settings.maxThreads})`,
          { fn: this.name },
        ),
      );
    } else if (call.state === RUNNING) {
      this.#fail(
        call,
        new FngateError('FNGATE_TIMEOUT', `${this.name} did not answer within its timeout (${formatDuration(this.settings.timeout)})`, {
          fn: this.name,
        }),
      );
      // ctx.signal aborted on the worker at the same deadline; give a cooperative handler a moment.
      call.timer = setTimeout(onKillGraceOver, KILL_GRACE_MS, call);
    }
  }

  /** @internal Timer callback: a timed-out handler did not stop by itself; stop its thread. */
  onKillGraceOver(call: Call): void {
    if (call.released || call.threadId === -1) return;
    const thread = this.#piscina.threads.find((t) => t.threadId === call.threadId);
    if (thread === undefined) return;
    this.#killed.set(call.threadId, call.envelope.id);
    const threadId = call.threadId;
    void thread.terminate().finally(() => this.#killed.delete(threadId));
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
    while (this.#queued > 0 && this.#running < this.#capacity) {
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
    if (this.#running === 0 && this.#queued === 0 && this.#idle.length > 0) {
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }
}

function onCallTimeout(call: Call): void {
  call.pool.onTimeout(call);
}

function onKillGraceOver(call: Call): void {
  call.pool.onKillGraceOver(call);
}
