import { BroadcastChannel } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { formatDuration } from '../config/units.js';
import { FngateError } from '../common/errors.js';
import {
  ANSWERED,
  BatchPlacement,
  Job,
  onJobTimeout,
  onKillGraceOver,
  RESERVED,
  QUEUED,
  RUNNING,
  type JobOwner,
} from './job.js';
import { JobQueue } from './job-queue.js';
import { ContinuationReceiver } from './continuation-receiver.js';
import {
  Envelope,
  isTaskFailure,
  PROBE_ID,
  Reply,
  type AbortMessage,
  type BundleMessage,
  type BundleRequest,
  type FunctionWorkerData,
  type TaskEnvelope,
  type TaskFailure,
  type TaskOutcome,
  type TaskReply,
} from '../protocol/messages.js';
import { AUTO_CONCURRENCY, PACK_BELOW_MS, ThreadPool } from './thread-pool.js';
import { taskFailureError, threadDeathError } from './pool-errors.js';

export { Job } from './job.js';

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
  /** Requests one thread runs at once, or `auto`. */
  readonly concurrency: number | 'auto';
}

export interface FunctionPoolOptions {
  readonly name: string;
  /**
   * Absolute path of the version's bundle. Without it the pool is a standby: its threads start
   * now and load the bundle given to adopt() later (a hot reload then skips their start-up).
   */
  readonly bundleFile?: string;
  readonly settings: PoolSettings;
  /** The env declared in config. */
  readonly env: Readonly<Record<string, string>>;
  /** How the module is called (config `type`). @default "auto" */
  readonly type?: FunctionWorkerData['type'];
  /** The function's shared memory, the same buffer for every version; null without. */
  readonly shared?: SharedArrayBuffer | null;
  /** NODE_ENV inside the function: `development` in dev, `production` in start. */
  readonly nodeEnv: string;
  /** For `fngate invoke` (see FunctionWorkerData.invoke). @default false */
  readonly invoke?: boolean;
  /** Something worth telling the user that no request will report (a crash outside a request, a back-off). */
  readonly onIncident?: (message: string) => void;
}

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
 * How long a request may wait for the batch in flight to come back before it goes out anyway:
 * a short function's batch is normally back well within this, and an occasional slow request in
 * it must not hold the next ones back.
 */
export const BATCH_WAIT_MS = 2;

/**
 * One function version's pool. It keeps its own bounded FIFO queue in front of the threads so
 * that a full queue answers at once, a disconnected client's request is dropped before it runs,
 * and no task needs an AbortSignal. It answers every job exactly once: with the reply, or with
 * a coded error (timeout, crash, queue full, unavailable).
 *
 * Short requests (`concurrency: auto`) go to threads in batches. A request that finds every
 * thread working through a batch waits (RESERVED, its slot reserved) until one comes back, or
 * BATCH_WAIT_MS, and leaves with the others that arrived meanwhile. A batch costs one piscina
 * task and one wake-up of a thread, however many requests it carries; under no load a batch is
 * a single request sent at once.
 */
export class FunctionPool implements JobOwner {
  readonly name: string;
  readonly settings: PoolSettings;
  readonly #options: FunctionPoolOptions;
  readonly #control: BroadcastChannel;
  /** file:// URL of the bundle; null while a standby pool waits for adopt(). */
  #bundle: string | null;
  readonly #workerData: FunctionWorkerData;
  #threads: ThreadPool;
  /** Calls waiting for a slot (beyond maxThreads x concurrency). */
  readonly #queue = new JobQueue();
  /** Calls with a slot, not yet handed to a thread (only while batching). */
  #reserved: Job[] = [];
  /** Calls handed to threads whose slot is not released yet. */
  readonly #running = new Set<Job>();
  #batchesInFlight = 0;
  #batchWait: NodeJS.Timeout | undefined;
  #flush: NodeJS.Immediate | undefined;
  /** Requests one thread takes at once right now (fixed, or adapted under `auto`), and whether to pack them. */
  readonly #perThread: { limit: number; pack: boolean };
  /** Average CPU time (ms) of recent requests, for `auto`: how many one thread can interleave. */
  #averageCpuMs = 0;
  /** Average run time (ms, waiting included) of recent requests, for `auto`: whether to batch them. */
  #averageRunMs = 0;
  #closing = false;
  #closed: Promise<void> | undefined;
  /** Resolves when close() is first called: a warm-up in progress gives up then. */
  readonly #closeStarted: Promise<'closed'>;
  #startClose!: () => void;
  #graceTimers: NodeJS.Timeout[] = [];
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
    this.settings = options.settings;
    this.#options = options;
    const controlChannel = `fngate:${options.name}:${process.pid}:${Math.random().toString(36).slice(2)}`;
    this.#control = new BroadcastChannel(controlChannel);
    this.#control.unref();
    this.#bundle = options.bundleFile === undefined ? null : pathToFileURL(options.bundleFile).href;
    // A standby thread asks for its bundle when it starts; one that asks before adopt() is
    // answered by adopt()'s broadcast.
    this.#control.onmessage = (event) => {
      if ((event as { data: Partial<BundleRequest> }).data.wantsBundle && this.#bundle !== null) this.#sendBundle();
    };
    this.#workerData = {
      bundle: this.#bundle,
      name: options.name,
      env: options.env,
      controlChannel,
      type: options.type ?? 'auto',
      shared: options.shared ?? null,
      invoke: options.invoke ?? false,
    };
    const { concurrency } = options.settings;
    // auto starts at 1: the first requests tell whether this function's requests are short.
    this.#perThread = { limit: concurrency === 'auto' ? 1 : concurrency, pack: false };
    this.#threads = this.#createThreads();
    this.#closeStarted = new Promise((resolve) => (this.#startClose = () => resolve('closed')));
  }

  /** A standby pool takes its bundle (before warm()); its threads, started already, load it. */
  adopt(bundleFile: string): void {
    if (this.#bundle !== null) throw new Error(`${this.name}: this pool already has its bundle`);
    this.#bundle = pathToFileURL(bundleFile).href;
    this.#sendBundle();
  }

  #sendBundle(): void {
    const message: BundleMessage = { bundle: this.#bundle! };
    this.#control.postMessage(message);
  }

  /** Requests waiting for a thread slot. */
  get queued(): number {
    return this.#queue.size;
  }

  /** Requests holding a thread slot (running, or about to go with the next batch). */
  get running(): number {
    return this.#running.size + this.#reserved.length;
  }

  /** Live threads. */
  get threads(): number {
    return this.#threads.size;
  }

  /** Threads running at least one request. */
  get busyThreads(): number {
    return this.#threads.busy;
  }

  /** Mean event-loop utilization of the live threads since the previous call, 0..1. */
  utilization(): number {
    return this.#threads.utilization();
  }

  /** Paused after a crash loop: why, and until when (epoch ms). */
  get paused(): { readonly reason: string; readonly until: number } | undefined {
    return this.#backoff;
  }

  get completed(): number {
    return this.#completed;
  }

  /** Starts a request: at once if a thread slot is free, else queued, else 503 FNGATE_QUEUE_FULL. */
  submit(envelope: TaskEnvelope): Job {
    envelope[Envelope.deadline] = Date.now() + this.settings.timeout;
    const job = new Job(this, envelope);
    if (this.#closing) {
      this.#fail(job, new FngateError('FNGATE_UNAVAILABLE', `${this.name} is shutting down`, { fn: this.name }));
    } else if (this.#backoff !== undefined) {
      this.#fail(job, this.#backoffError());
    } else if (this.running < this.#capacity()) {
      job.timer = setTimeout(onJobTimeout, this.settings.timeout, job);
      job.state = RESERVED;
      this.#reserved.push(job);
      this.#send();
    } else if (this.#queue.size < this.settings.maxQueue) {
      job.timer = setTimeout(onJobTimeout, this.settings.timeout, job);
      this.#queue.push(job);
    } else {
      const { maxThreads, maxQueue } = this.settings;
      const message =
        maxQueue === 0
          ? `all ${maxThreads} threads of ${this.name} are busy and it has no queue (maxQueue: 0)`
          : `all ${maxThreads} threads of ${this.name} are busy and ${maxQueue} requests are already queued (maxQueue)`;
      this.#fail(job, new FngateError('FNGATE_QUEUE_FULL', message, { fn: this.name, retryAfter: 1 }));
    }
    return job;
  }

  /**
   * Loads the module on one thread and reports how that went: null when it is ready to serve,
   * else the load failure (the module threw, its thread died, or it did not finish loading
   * within the timeout).
   */
  async warm(): Promise<TaskFailure | null> {
    if (this.#bundle === null) throw new Error(`${this.name}: warm() before adopt() on a standby pool`);
    const timeoutMs = Math.max(this.settings.timeout, 10_000);
    const probe: TaskEnvelope = [PROBE_ID, 'GET', 'http://fngate.invalid/', [], null, null, Date.now() + timeoutMs];
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(resolve, timeoutMs, 'timeout');
    });
    try {
      const outcome = await Promise.race([this.#threads.run(probe, null) as Promise<TaskOutcome>, timedOut, this.#closeStarted]);
      if (outcome === 'closed') {
        return { failure: 'load', name: 'Error', message: 'the pool was closed before the module finished loading', stack: undefined, runMs: 0 };
      }
      if (outcome === 'timeout') {
        const message = `the module did not finish loading within ${formatDuration(timeoutMs)}`;
        return { failure: 'load', name: 'Error', message, stack: undefined, runMs: 0 };
      }
      if (isTaskFailure(outcome)) return outcome;
      // minThreads 0: the module loads fine; its first request starts a thread, as configured.
      if (this.settings.minThreads === 0) await this.#threads.stopIdleThreads();
      return null;
    } catch (error) {
      // The thread died while loading: process.exit() or an uncaught error at top level.
      const { name, message, stack } = error as Error;
      const exit = /worker exited with code: (-?\d+)/.exec(message);
      // piscina's own stack says nothing about the user's module.
      if (exit) return { failure: 'load', name: 'Error', message: `its thread exited with code ${exit[1]} while loading the module (process.exit?)`, stack: undefined, runMs: 0 };
      return { failure: 'load', name, message, stack, runMs: 0 };
    } finally {
      clearTimeout(timer);
    }
  }

  /** @internal The client disconnected (via Job.cancel). */
  cancel(job: Job): void {
    if (job.state === QUEUED || job.state === RESERVED) {
      this.#leaveBeforeRunning(job);
      this.#fail(job, new FngateError('FNGATE_CLIENT_CLOSED', 'the client disconnected while the request was queued', { fn: this.name }));
      this.#checkIdle();
    } else if (job.state === RUNNING) {
      const message: AbortMessage = { abort: job.envelope[Envelope.id], reason: 'disconnect' };
      this.#control.postMessage(message);
      this.#fail(job, new FngateError('FNGATE_CLIENT_CLOSED', 'the client disconnected while the request was running', { fn: this.name }));
    }
  }

  /**
   * Stops accepting, lets queued and running requests finish (unless `force`), then destroys the
   * threads. piscina's own close() was seen to kill running tasks when two or more threads were
   * busy, so we drain by our own count first.
   */
  close(options: { force?: boolean; graceMs?: number } = {}): Promise<void> {
    // Closing again (shutdown while a reload's old version drains) only shortens the wait.
    if (this.#closed === undefined) this.#closed = this.#close(options);
    else this.#hurry(options);
    return this.#closed;
  }

  async #close(options: { force?: boolean; graceMs?: number }): Promise<void> {
    this.#closing = true;
    this.#startClose();
    if (this.#backoff !== undefined) clearTimeout(this.#backoff.timer);
    if (!this.#isIdle()) {
      const drained = new Promise<void>((resolve) => this.#idle.push(resolve));
      this.#hurry(options);
      await drained;
    }
    for (const timer of this.#graceTimers) clearTimeout(timer);
    clearTimeout(this.#batchWait);
    clearImmediate(this.#flush);
    this.#control.close();
    await this.#threads.destroy();
  }

  /** Ends close()'s wait for the pool to drain: now (`force`), or after `graceMs`. */
  #hurry(options: { force?: boolean; graceMs?: number }): void {
    if (this.#idle.length === 0) return; // not waiting (any more)
    const stopWaiting = () => {
      for (const resolve of this.#idle.splice(0)) resolve();
    };
    if (options.force) stopWaiting();
    else if (options.graceMs !== undefined) this.#graceTimers.push(setTimeout(stopWaiting, options.graceMs));
  }

  /** Completed and failed counts, for status and tests. */
  counters(): { completed: number; failed: Record<string, number> } {
    return { completed: this.#completed, failed: Object.fromEntries(this.#failed) };
  }

  /** @internal Timer callback: the job reached its deadline. */
  onTimeout(job: Job): void {
    if (job.state === QUEUED || job.state === RESERVED) {
      this.#leaveBeforeRunning(job);
      this.#fail(job, this.#timeoutError(true));
      this.#checkIdle();
    } else if (job.state === RUNNING) {
      this.#fail(job, this.#timeoutError(false));
      if (job.threadId === -1 && ++this.#unplacedTimeouts >= CRASH_LOOP.crashes) {
        // No thread took the task in time. Under load a fresh thread can simply be slow to start;
        // only when this keeps happening with no task placed in between do threads not start at
        // all (and each task would hold its slot in piscina's queue forever).
        this.#startBackoff(`${this.#unplacedTimeouts} requests in a row timed out before any thread could take them`);
        return;
      }
      // ctx.signal aborted on the worker at the same deadline; give a cooperative handler a moment.
      // A task no thread has taken yet will not be run by the worker (it is past its deadline),
      // but it may be mid-placement: check again then too.
      if (job.threadId !== -1) {
        this.#threads.stopPlacing(job.threadId, job.envelope[Envelope.id]);
        job.loopAtTimeout = this.#threads.eventLoopOf(job.threadId);
      }
      job.timer = setTimeout(onKillGraceOver, KILL_GRACE_MS, job);
    }
  }

  /**
   * @internal Timer callback: a timed-out handler did not stop by itself. Its thread is stopped,
   * unless other requests share it and its event loop still turns: then the handler only awaits
   * something that never comes, and killing the thread would fail requests that did nothing wrong.
   */
  onKillGraceOver(job: Job): void {
    if (!this.#running.has(job) || job.threadId === -1 || job.threads !== this.#threads) return;
    const id = job.envelope[Envelope.id];
    const others = this.#threads.requestsOn(job.threadId) - 1;
    if (others > 0 && !this.#threads.blockedSince(job.threadId, job.loopAtTimeout)) {
      this.#options.onIncident?.(
        `[${this.name}] request ${id} ignored ctx.signal after its timeout; its thread is not blocked and runs ${others} other request${others === 1 ? '' : 's'}, so it is left running and no longer counted`,
      );
      // Releasing it resumes placing on the thread.
      if (this.#release(job)) this.#pump();
      return;
    }
    this.#threads.stopPlacing(job.threadId, id);
    this.#kill(job.threadId);
  }

  /** Terminates a thread on which placing was stopped; its slots count again once it is gone. */
  #kill(threadId: number): void {
    const threads = this.#threads;
    void threads.kill(threadId).then(() => {
      if (threads === this.#threads) this.#pump();
    });
  }

  /** A job that never reached a thread leaves the queue, or its reserved slot. */
  #leaveBeforeRunning(job: Job): void {
    if (job.state === QUEUED) this.#queue.left();
    else this.#reserved.splice(this.#reserved.indexOf(job), 1);
  }

  /**
   * Requests that may hold a thread slot at once. A thread that placing was stopped on (its
   * request timed out) offers none until it is resumed or replaced: a request handed to piscina
   * meanwhile would sit in piscina's queue, which only looks again when a task ends.
   */
  #capacity(): number {
    return (this.settings.maxThreads - this.#threads.stopped) * this.#perThread.limit;
  }

  /** Short requests under `auto` go to threads in batches. */
  /**
   * A batch is answered when its last request is: only requests that finish quickly are sent
   * together, or a fast answer would wait for a slow neighbour (a handler awaiting an upstream).
   */
  #batching(): boolean {
    return this.settings.concurrency === 'auto' && this.#perThread.limit > 1 && this.#averageRunMs < AUTO_CONCURRENCY.shortMs;
  }

  /**
   * Under `auto`, follows the CPU time of requests with the per-thread limit: a handler that
   * mostly waits (on a timer, an upstream) shares its thread however long it takes; one that
   * computes gets a thread to itself.
   */
  #adaptConcurrency(cpuMs: number, runMs: number): void {
    if (this.settings.concurrency !== 'auto') return;
    this.#averageRunMs += (runMs - this.#averageRunMs) * AUTO_CONCURRENCY.weight;
    this.#averageCpuMs += (cpuMs - this.#averageCpuMs) * AUTO_CONCURRENCY.weight;
    if (this.#averageCpuMs < AUTO_CONCURRENCY.shortMs) this.#perThread.limit = AUTO_CONCURRENCY.max;
    else if (this.#averageCpuMs > AUTO_CONCURRENCY.longMs) this.#perThread.limit = 1;
    this.#perThread.pack = this.#averageCpuMs < PACK_BELOW_MS;
  }

  #createThreads(): ThreadPool {
    return new ThreadPool({
      workerData: this.#workerData,
      settings: this.settings,
      perThread: this.#perThread,
      env: { NODE_ENV: this.#options.nodeEnv, ...this.#options.env },
      onIdleCrash: (error) => this.#onIdleCrash(error),
    });
  }

  /** Hands pending jobs to threads: one by one, or as batches while a thread is free for one. */
  #send(): void {
    if (!this.#batching()) {
      const jobs = this.#reserved;
      this.#reserved = [];
      for (const job of jobs) this.#dispatch([job], false);
      return;
    }
    // Requests that arrive in the same turn of the event loop (a burst from clients, or the next
    // requests of clients whose answers went out together) are sent together: the batch is
    // formed at the end of the turn, which costs them microseconds.
    this.#flush ??= setImmediate(flushPending, this);
  }

  /** @internal Immediate callback: the turn is over; send what is pending as batches. */
  onFlush(): void {
    this.#flush = undefined;
    // As many batches in flight as the function has threads. Packed ones may share a thread:
    // it then finds the next batch waiting when it finishes one, while the gateway writes the
    // answers of the other (measured: 38k -> 42k req/s for hello against 1 batch in flight).
    while (this.#reserved.length > 0 && this.#batchesInFlight < this.settings.maxThreads) {
      this.#dispatch(this.#reserved.splice(0, this.#perThread.limit), true);
    }
    if (this.#reserved.length > 0 && this.#batchWait === undefined) {
      this.#batchWait = setTimeout(endBatchWait, BATCH_WAIT_MS, this);
    }
  }

  /** @internal Timer callback: pending requests waited BATCH_WAIT_MS; send them as a batch of their own. */
  onBatchWaitOver(): void {
    this.#batchWait = undefined;
    while (this.#reserved.length > 0) this.#dispatch(this.#reserved.splice(0, this.#perThread.limit), true);
  }

  #dispatch(jobs: Job[], asBatch: boolean): void {
    for (const job of jobs) {
      job.state = RUNNING;
      job.threads = this.#threads;
      this.#running.add(job);
    }
    if (!asBatch) {
      const job = jobs[0]!;
      this.#threads.run(job.envelope, job).then(
        (outcome) => this.#onOutcome(job, outcome as TaskOutcome),
        (error: Error) => this.#onThreadDeath(job, error),
      );
      return;
    }
    this.#batchesInFlight++;
    const placement = new BatchPlacement(jobs);
    const task = jobs.length === 1 ? jobs[0]!.envelope : jobs.map((job) => job.envelope);
    this.#threads.run(task, placement).then(
      (outcome) => {
        this.#batchesInFlight--;
        if (jobs.length === 1) this.#onOutcome(jobs[0]!, outcome as TaskOutcome, false);
        else (outcome as TaskOutcome[]).forEach((one, i) => this.#onOutcome(jobs[i]!, one, false));
        this.#pump();
      },
      (error: Error) => {
        this.#batchesInFlight--;
        for (const job of jobs) this.#onThreadDeath(job, error, false);
        this.#pump();
      },
    );
  }

  #onOutcome(job: Job, outcome: TaskOutcome, pump = true): void {
    if (!isTaskFailure(outcome) && outcome[Reply.continuation] !== undefined) return this.#onContinuation(job, outcome);
    if (!this.#release(job)) return;
    if (isTaskFailure(outcome)) {
      // A failure at the deadline is the timeout itself (a cooperative handler's ctx.signal, or
      // a task that reached its thread too late) even when our own timer has not fired yet.
      const timedOut = outcome.failure === 'expired' || Date.now() >= job.envelope[Envelope.deadline];
      this.#fail(job, timedOut ? this.#timeoutError(false) : taskFailureError(this.name, outcome));
    } else if (job.state !== ANSWERED) {
      job.state = ANSWERED;
      clearTimeout(job.timer);
      this.#completed++;
      const totalMs = performance.now() - job.submittedAt;
      const runMs = outcome[Reply.runMs];
      outcome[Reply.queueMs] = Math.max(0, Math.round((totalMs - runMs) * 100) / 100);
      this.#adaptConcurrency(outcome[Reply.cpuMs], runMs);
      job.resolve(outcome);
    }
    if (pump) this.#pump();
  }

  /**
   * A reply the request goes on after (a streamed body, ctx.waitUntil work): answered now, its
   * thread slot kept until the thread says done, so the thread is not counted idle and a drain
   * (reload, shutdown) waits for it. Work that is not a body the client reads (waitUntil only)
   * gets the function's timeout again, then its thread is stopped.
   */
  #onContinuation(job: Job, reply: TaskReply): void {
    const threads = job.threads;
    let overdue: NodeJS.Timeout | undefined;
    const receiver = new ContinuationReceiver(
      reply[Reply.continuation]!,
      reply[Reply.streamed] === true,
      () => {
        clearTimeout(overdue);
        if (this.#release(job)) this.#pump();
      },
      () => {
        const cut = job.onBodyFailure;
        cut?.();
        return cut !== undefined;
      },
    );
    if (job.threadId !== -1 && threads === this.#threads) this.#threads.keepBusy(job.threadId, job.envelope[Envelope.id]);
    if (reply[Reply.streamed] !== true) {
      overdue = setTimeout(() => {
        if (!this.#running.has(job) || job.threadId === -1 || threads !== this.#threads) return;
        const after = formatDuration(this.settings.timeout);
        if (this.#threads.requestsOn(job.threadId) > 1) {
          // Other requests share the thread: they are not to die for it. Waiting work is
          // usually an idle promise; one that computes blocks them too, and their own timeouts
          // stop the thread then.
          this.#options.onIncident?.(`[${this.name}] ctx.waitUntil() work was still running ${after} after the response; no longer waiting for it`);
          if (this.#release(job)) this.#pump();
          return;
        }
        this.#options.onIncident?.(`[${this.name}] ctx.waitUntil() work was still running ${after} after the response; its thread is stopped`);
        this.#threads.stopPlacing(job.threadId, job.envelope[Envelope.id]);
        this.#kill(job.threadId);
      }, this.settings.timeout);
    }
    if (job.state === ANSWERED) {
      // Too late (timed out, or the client left): nobody reads the body.
      void receiver.body?.cancel();
      return;
    }
    job.state = ANSWERED;
    clearTimeout(job.timer);
    this.#completed++;
    job.body = receiver.body;
    const runMs = reply[Reply.runMs];
    reply[Reply.queueMs] = Math.max(0, Math.round((performance.now() - job.submittedAt - runMs) * 100) / 100);
    this.#adaptConcurrency(reply[Reply.cpuMs], runMs);
    job.resolve(reply);
  }

  /** piscina rejected the task: its thread died (exit, uncaught error, out of memory, our kill). */
  #onThreadDeath(job: Job, error: Error & { code?: string }, pump = true): void {
    if (!this.#release(job)) return;
    const killedFor = job.threads === this.#threads ? this.#threads.stoppedFor(job.threadId) : undefined;
    this.#fail(
      job,
      threadDeathError(this.name, error, { memoryLimit: this.settings.memoryLimit, requestId: job.envelope[Envelope.id], killedFor }),
    );
    if (pump) this.#pump();
  }

  /** The job's thread slot is free again. False when it was already released (e.g. by a back-off). */
  #release(job: Job): boolean {
    if (!this.#running.delete(job)) return false;
    if (job.threadId !== -1) {
      this.#unplacedTimeouts = 0; // a thread did take work
      if (job.threads === this.#threads) this.#threads.released(job.threadId);
    }
    if (job.state === ANSWERED) {
      // It timed out but ended before its thread was killed: the thread is fine.
      clearTimeout(job.timer);
      if (job.threads === this.#threads && this.#threads.stoppedFor(job.threadId) === job.envelope[Envelope.id]) {
        this.#threads.resumePlacing(job.threadId);
      }
    }
    return true;
  }

  #fail(job: Job, error: FngateError): void {
    if (job.state === ANSWERED) return;
    job.state = ANSWERED;
    clearTimeout(job.timer);
    this.#failed.set(error.code, (this.#failed.get(error.code) ?? 0) + 1);
    job.reject(error);
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
    for (const job of this.#running) {
      this.#running.delete(job);
      this.#fail(job, new FngateError('FNGATE_WORKER_CRASHED', `its thread was stopped: ${reason}`, { fn: this.name }));
    }
    this.#batchesInFlight = 0;
    clearTimeout(this.#batchWait);
    this.#batchWait = undefined;
    clearImmediate(this.#flush);
    this.#flush = undefined;
    for (const job of [...this.#reserved, ...this.#queue.drain()]) this.#fail(job, error);
    this.#reserved = [];
    void this.#threads.destroy();
    this.#checkIdle();
  }

  #timeoutError(beforeRunning: boolean): FngateError {
    const timeout = formatDuration(this.settings.timeout);
    const message = beforeRunning
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

  /** Moves queued jobs into free slots, sends what is pending, and wakes close() when idle. */
  #pump(): void {
    while (this.#queue.size > 0 && this.running < this.#capacity()) {
      const job = this.#queue.shift();
      if (job === undefined) break;
      job.state = RESERVED;
      this.#reserved.push(job);
    }
    if (this.#reserved.length > 0) this.#send();
    this.#checkIdle();
  }

  #isIdle(): boolean {
    return this.#running.size === 0 && this.#queue.size === 0 && this.#reserved.length === 0;
  }

  #checkIdle(): void {
    if (this.#idle.length > 0 && this.#isIdle()) {
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }
}

function endBatchWait(pool: FunctionPool): void {
  pool.onBatchWaitOver();
}

function flushPending(pool: FunctionPool): void {
  pool.onFlush();
}
