import { formatDuration } from '../config/units.js';
import { FngateError } from '../common/errors.js';
import { Envelope, taskOf, type TaskEnvelope } from '../protocol/envelope.js';
import { isTaskFailure, type TaskFailure, type TaskOutcome } from '../protocol/failure.js';
import type { ResponseSink } from '../protocol/invocation.js';
import { Reply, type TaskReply } from '../protocol/reply.js';
import type { FunctionWorkerData } from '../protocol/worker-data.js';
import { Batcher } from './batcher.js';
import { ContinuationReceiver } from './continuation-receiver.js';
import type { FunctionPoolOptions } from './function-pool-options.js';
import { CrashBackoff } from './crash-backoff.js';
import { CrashReports } from './crash-reports.js';
import { Drain, type DrainOptions } from './drain.js';
import { ANSWERED, BatchPlacement, Job, onJobTimeout, onKillGraceOver, QUEUED, RESERVED, RUNNING, type JobOwner } from './job.js';
import { JobQueue } from './job-queue.js';
import { probeModule } from './probe-module.js';
import {
  clientClosedError,
  pausedError,
  queueFullError,
  taskFailureError,
  threadDeathError,
  timeoutError,
} from './pool-errors.js';
import { CRASH_LOOP, KILL_GRACE_MS, type PoolSettings } from './settings.js';
import { ThreadConcurrency } from './thread-concurrency.js';
import { ThreadControl } from './thread-control.js';
import { deathOf, ThreadDied, ThreadPool } from './thread-pool.js';

export type { PoolSettings } from './settings.js';
export type { FunctionPoolOptions } from './function-pool-options.js';

/**
 * One function version's pool. It keeps its own bounded FIFO queue in front of the threads so
 * that a full queue answers at once, a disconnected client's request is dropped before it runs,
 * and no task needs an AbortSignal. It answers every job exactly once: with the reply, or with
 * a coded error (timeout, crash, queue full, unavailable).
 *
 * A job's path: submit() admits it (a free slot: reserved; else queued; else 503), the Batcher
 * hands reserved jobs to the ThreadPool (alone, or in batches for short requests), the outcome
 * or the thread's death answers it, and its slot is released when nothing of it runs any more
 * (a streamed body or waitUntil work keeps it). A job that outlives its timeout is answered 504
 * and its thread stopped unless the handler stops by itself (see onTimeout).
 */
export class FunctionPool implements JobOwner {
  readonly name: string;
  readonly settings: PoolSettings;
  readonly #options: FunctionPoolOptions;
  readonly #control: ThreadControl;
  readonly #workerData: FunctionWorkerData;
  #threads: ThreadPool;
  /** Jobs waiting for a slot (beyond maxThreads x concurrency). */
  readonly #queue = new JobQueue();
  /** Jobs with a slot, not yet handed to a thread. */
  readonly #batcher: Batcher;
  /** Jobs handed to threads whose slot is not released yet. */
  readonly #running = new Set<Job>();
  readonly #concurrency: ThreadConcurrency;
  readonly #backoff = new CrashBackoff();
  readonly #crashes: CrashReports;
  #closing = false;
  #closed: Promise<void> | undefined;
  /** Resolves when close() is first called: a warm-up in progress gives up then. */
  readonly #closeStarted: Promise<'closed'>;
  #startClose!: () => void;
  readonly #drain = new Drain();

  constructor(options: FunctionPoolOptions) {
    this.name = options.name;
    this.settings = options.settings;
    this.#options = options;
    this.#crashes = new CrashReports(options, this.#backoff, (reason) => this.#startBackoff(reason));
    this.#control = new ThreadControl(options.name, options.bundleFile, (code) => {
      if (!this.#closing) this.#crashes.exited(code);
    });
    this.#workerData = {
      bundle: this.#control.bundle,
      name: options.name,
      env: options.env,
      controlChannel: this.#control.name,
      type: options.type ?? 'auto',
      shared: options.shared ?? null,
      invoke: options.invoke ?? false,
    };
    this.#concurrency = new ThreadConcurrency(options.settings.concurrency);
    this.#batcher = new Batcher({
      maxThreads: options.settings.maxThreads,
      concurrency: this.#concurrency,
      dispatch: (jobs, asBatch) => this.#dispatch(jobs, asBatch),
    });
    this.#threads = this.#createThreads();
    this.#closeStarted = new Promise((resolve) => (this.#startClose = () => resolve('closed')));
  }

  /** A standby pool takes its bundle (before warm()); its threads, started already, load it. */
  adopt(bundleFile: string): void {
    if (this.#control.bundle !== null) throw new Error(`${this.name}: this pool already has its bundle`);
    this.#control.adopt(bundleFile);
  }

  /** Requests waiting for a thread slot. */
  get queued(): number {
    return this.#queue.size;
  }

  /** Requests holding a thread slot (running, or about to go with the next batch). */
  get running(): number {
    return this.#running.size + this.#batcher.size;
  }

  /** Live threads. */
  get threads(): number {
    return this.#threads.size;
  }

  /** Threads running at least one request. */
  get busyThreads(): number {
    return this.#threads.busy;
  }

  /** Requests one thread takes at once right now (the configured number, or what `auto` chose). */
  get perThread(): number {
    return this.#concurrency.perThread.limit;
  }

  /** Mean event-loop utilization of the live threads since the previous call, 0..1. */
  utilization(): number {
    return this.#threads.utilization();
  }

  /** Paused after a crash loop: why, and until when (epoch ms). */
  get paused(): { readonly reason: string; readonly until: number } | undefined {
    return this.#backoff.paused;
  }

  /**
   * Starts a request: at once if a thread slot is free, else queued, else 503 FNGATE_QUEUE_FULL.
   * `sink` is cut when a streamed body fails midway.
   */
  submit(envelope: TaskEnvelope, sink?: ResponseSink): Job {
    envelope[Envelope.deadline] = Date.now() + this.settings.timeout;
    const job = new Job(this, envelope, sink);
    const paused = this.#backoff.paused;
    if (this.#closing) {
      this.#fail(job, new FngateError('FNGATE_UNAVAILABLE', `${this.name} is shutting down`, { fn: this.name }));
    } else if (paused !== undefined) {
      this.#fail(job, pausedError(this.name, paused.reason, this.#backoff.secondsLeft()));
    } else if (this.running < this.#capacity()) {
      job.timer = setTimeout(onJobTimeout, this.settings.timeout, job);
      job.state = RESERVED;
      this.#batcher.add(job);
    } else if (this.#queue.size < this.settings.maxQueue) {
      job.timer = setTimeout(onJobTimeout, this.settings.timeout, job);
      this.#queue.push(job);
    } else {
      this.#fail(job, queueFullError(this.name, this.settings.maxThreads, this.settings.maxQueue));
    }
    return job;
  }

  /**
   * Loads the module on one thread and reports how that went: null when it is ready to serve,
   * else the load failure (see probeModule).
   */
  warm(): Promise<TaskFailure | null> {
    if (this.#control.bundle === null) throw new Error(`${this.name}: warm() before adopt() on a standby pool`);
    return probeModule(this.#threads, this.settings, this.#closeStarted);
  }

  /** @internal The client disconnected (via Job.cancel). */
  cancel(job: Job): void {
    if (job.state === QUEUED || job.state === RESERVED) {
      this.#leaveBeforeRunning(job);
      this.#fail(job, clientClosedError(this.name, 'queued'));
      this.#checkIdle();
    } else if (job.state === RUNNING) {
      this.#control.abort(job.envelope[Envelope.id], 'disconnect');
      this.#fail(job, clientClosedError(this.name, 'running'));
    }
  }

  /**
   * Stops accepting, lets queued and running requests finish (unless `force`), then destroys the
   * threads. piscina's own close() was seen to kill running tasks when two or more threads were
   * busy, so we drain by our own count first.
   */
  close(options: DrainOptions = {}): Promise<void> {
    // Closing again (shutdown while a reload's old version drains) only shortens the wait.
    if (this.#closed === undefined) this.#closed = this.#close(options);
    else this.#drain.hurry(options);
    return this.#closed;
  }

  async #close(options: DrainOptions): Promise<void> {
    this.#closing = true;
    this.#startClose();
    this.#backoff.cancel();
    if (!this.#isIdle()) await this.#drain.wait(options);
    this.#drain.dispose();
    this.#batcher.stop();
    this.#control.close();
    await this.#threads.destroy();
  }

  /**
   * @internal Timer callback: the job reached its deadline. The client gets its 504 now. A job
   * that never reached a thread just leaves; a running one sees ctx.signal abort on its thread
   * (at the same deadline), and its handler gets KILL_GRACE_MS to stop by itself, during which
   * the thread takes no new work.
   */
  onTimeout(job: Job): void {
    if (job.state === QUEUED || job.state === RESERVED) {
      this.#leaveBeforeRunning(job);
      this.#fail(job, this.#timeoutError(true));
      this.#checkIdle();
    } else if (job.state === RUNNING) {
      this.#fail(job, this.#timeoutError(false));
      const unplaced = job.threadId === -1 ? this.#backoff.unplacedTimeout() : 0;
      if (unplaced >= CRASH_LOOP.crashes) {
        // No thread took the task in time. Under load a fresh thread can simply be slow to start;
        // only when this keeps happening with no task placed in between do threads not start at
        // all (and each task would hold its slot in piscina's queue forever).
        this.#startBackoff(`${unplaced} requests in a row timed out before any thread could take them`);
        return;
      }
      // A task no thread has taken yet will not be run by the worker (it is past its deadline),
      // but it may be mid-placement: check again after the grace period too.
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
    else this.#batcher.remove(job);
  }

  /**
   * Requests that may hold a thread slot at once. A thread that placing was stopped on (its
   * request timed out) offers none until it is resumed or replaced: a request handed to piscina
   * meanwhile would sit in piscina's queue, which only looks again when a task ends.
   */
  #capacity(): number {
    return (this.settings.maxThreads - this.#threads.stopped) * this.#concurrency.perThread.limit;
  }

  #createThreads(): ThreadPool {
    return new ThreadPool({
      workerData: this.#workerData,
      settings: this.settings,
      perThread: this.#concurrency.perThread,
      maxPerThread: this.#concurrency.max,
      env: { NODE_ENV: this.#options.nodeEnv, ...this.#options.env },
      onIdleCrash: (error) => this.#crashes.crashed(error),
    });
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
        (error: ThreadDied) => this.#onThreadDeath(job, error),
      );
      return;
    }
    this.#threads.run(taskOf(jobs.map((job) => job.envelope)), new BatchPlacement(jobs)).then(
      (outcome) => {
        this.#batcher.batchReturned();
        if (jobs.length === 1) this.#onOutcome(jobs[0]!, outcome as TaskOutcome, false);
        else (outcome as TaskOutcome[]).forEach((one, i) => this.#onOutcome(jobs[i]!, one, false));
        this.#pump();
      },
      (error: ThreadDied) => {
        this.#batcher.batchReturned();
        for (const job of jobs) this.#onThreadDeath(job, error, false);
        this.#pump();
      },
    );
  }

  #onOutcome(job: Job, outcome: TaskOutcome, pump = true): void {
    if (!isTaskFailure(outcome) && outcome[Reply.continuation] !== undefined) return this.#onContinuation(job, outcome);
    if (!this.#release(job)) return;
    if (isTaskFailure(outcome)) {
      if (outcome.failure === 'load') this.#options.onLoadFailure?.(outcome);
      // A failure at the deadline is the timeout itself (a cooperative handler's ctx.signal, or
      // a task that reached its thread too late) even when our own timer has not fired yet.
      const timedOut = outcome.failure === 'expired' || Date.now() >= job.envelope[Envelope.deadline];
      this.#fail(job, timedOut ? this.#timeoutError(false) : taskFailureError(this.name, outcome, this.#options.explain?.(outcome)));
    } else if (job.state !== ANSWERED) {
      this.#answer(job, outcome);
    }
    if (pump) this.#pump();
  }

  /** Resolves the job with its reply, filling in how long it waited for a thread. */
  #answer(job: Job, reply: TaskReply): void {
    job.state = ANSWERED;
    clearTimeout(job.timer);
    const runMs = reply[Reply.runMs];
    reply[Reply.queueMs] = Math.max(0, Math.round((performance.now() - job.submittedAt - runMs) * 100) / 100);
    this.#concurrency.record(reply[Reply.cpuMs], runMs);
    job.resolve(reply);
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
    const sink = job.sink;
    const receiver = new ContinuationReceiver(
      reply[Reply.continuation]!,
      reply[Reply.streamed] === true,
      () => {
        clearTimeout(overdue);
        if (this.#release(job)) this.#pump();
      },
      sink === undefined ? undefined : () => (sink.destroy(), true),
    );
    if (job.threadId !== -1 && threads === this.#threads) this.#threads.keepBusy(job.threadId, job.envelope[Envelope.id]);
    if (reply[Reply.streamed] !== true) {
      overdue = setTimeout(() => this.#onOverdueWork(job, threads), this.settings.timeout);
    }
    if (job.state === ANSWERED) {
      // Too late (timed out, or the client left): nobody reads the body.
      void receiver.body?.cancel();
      return;
    }
    job.body = receiver.body;
    this.#answer(job, reply);
  }

  /** waitUntil work still runs a timeout after the response. */
  #onOverdueWork(job: Job, threads: object | undefined): void {
    if (!this.#running.has(job) || job.threadId === -1 || threads !== this.#threads) return;
    const after = formatDuration(this.settings.timeout);
    if (this.#threads.requestsOn(job.threadId) > 1) {
      // Other requests share the thread: they are not to die for it. Waiting work is usually an
      // idle promise; one that computes blocks them too, and their own timeouts stop the thread then.
      this.#options.onIncident?.(`[${this.name}] ctx.waitUntil() work was still running ${after} after the response; no longer waiting for it`);
      if (this.#release(job)) this.#pump();
      return;
    }
    this.#options.onIncident?.(`[${this.name}] ctx.waitUntil() work was still running ${after} after the response; its thread is stopped`);
    this.#threads.stopPlacing(job.threadId, job.envelope[Envelope.id]);
    this.#kill(job.threadId);
  }

  /** The thread died under the job (exit, uncaught error, out of memory, our kill). */
  #onThreadDeath(job: Job, error: ThreadDied, pump = true): void {
    if (!this.#release(job)) return;
    const killedFor = job.threads === this.#threads ? this.#threads.stoppedFor(job.threadId) : undefined;
    const death = deathOf(error);
    const hint = death.cause === 'crash' ? this.#crashes.explain(death.error) : undefined;
    this.#fail(job, threadDeathError(this.name, death, { memoryLimit: this.settings.memoryLimit, requestId: job.envelope[Envelope.id], killedFor }, hint));
    if (pump) this.#pump();
  }

  /** The job's thread slot is free again. False when it was already released (e.g. by a back-off). */
  #release(job: Job): boolean {
    if (!this.#running.delete(job)) return false;
    if (job.threadId !== -1) {
      this.#backoff.threadTookWork();
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
    job.reject(error);
  }

  /** Stops every thread, answers what was waiting, and starts fresh threads after a pause. */
  #startBackoff(reason: string): void {
    if (this.#closing) return;
    const pause = this.#backoff.pause(reason, () => {
      if (!this.#closing) this.#threads = this.#createThreads();
    });
    if (pause === undefined) return;
    this.#options.onIncident?.(`✘ ${this.name}: ${reason}; no new threads for ${formatDuration(pause.ms)} (503 until then)`);

    const error = pausedError(this.name, reason, this.#backoff.secondsLeft());
    for (const job of this.#running) {
      this.#running.delete(job);
      this.#fail(job, new FngateError('FNGATE_WORKER_CRASHED', `its thread was stopped: ${reason}`, { fn: this.name }));
    }
    for (const job of [...this.#batcher.takeAll(), ...this.#queue.drain()]) this.#fail(job, error);
    void this.#threads.destroy();
    this.#checkIdle();
  }

  #timeoutError(beforeRunning: boolean): FngateError {
    return timeoutError(this.name, this.settings.timeout, this.settings.maxThreads, beforeRunning);
  }

  /** Moves queued jobs into free slots, sends what is reserved, and wakes close() when idle. */
  #pump(): void {
    while (this.#queue.size > 0 && this.running < this.#capacity()) {
      const job = this.#queue.shift();
      if (job === undefined) break;
      job.state = RESERVED;
      this.#batcher.add(job);
    }
    this.#checkIdle();
  }

  #isIdle(): boolean {
    return this.#running.size === 0 && this.#queue.size === 0 && this.#batcher.size === 0;
  }

  #checkIdle(): void {
    if (this.#drain.waiting && this.#isIdle()) this.#drain.idle();
  }
}
