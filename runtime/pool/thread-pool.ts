import type { EventLoopUtilization } from 'node:perf_hooks';
import { Piscina } from 'piscina';
import { WORKER_ENTRY } from '../common/runtime-files.js';
import { Envelope, isBatch, keepBusyEnvelope, type Task } from '../protocol/envelope.js';
import type { TaskOutcome, ThreadDeath } from '../protocol/failure.js';
import type { FunctionWorkerData } from '../protocol/worker-data.js';
import { pickThread, type Placement } from './balancer.js';
import { BLOCKED_UTILIZATION, type PerThread, type PoolSettings } from './settings.js';

export interface ThreadPoolOptions {
  readonly workerData: FunctionWorkerData;
  readonly settings: PoolSettings;
  /** How many requests one thread takes at once, and whether to pack them; read at every placement. */
  readonly perThread: PerThread;
  /** The most requests one thread may ever take. */
  readonly maxPerThread: number;
  /** The process env of every thread: exactly the declared env plus NODE_ENV. */
  readonly env: Readonly<Record<string, string>>;
  /** A thread died while running no task (a timer threw after the response, a crash at load). */
  readonly onIdleCrash: (error: Error) => void;
}

/** run() rejects with this when the thread under the task died; `death` says why. */
export class ThreadDied extends Error {
  override readonly name = 'ThreadDied';
  readonly death: ThreadDeath;

  constructor(death: ThreadDeath, cause?: Error) {
    super(describeDeath(death), cause === undefined ? undefined : { cause });
    this.death = death;
  }
}

// piscina hands each task's `[queueOptionsSymbol]` value to the load balancer; we put the task's
// Placement there to learn which thread runs it, and whether it is a batch (symbol keys are not
// cloned to the worker).
const kPlacement = Piscina.queueOptionsSymbol;

/**
 * One Piscina instance: the threads of one function version, and the only module that knows
 * piscina. FunctionPool may replace it (after a crash loop), which is why it is a separate
 * object. Never given AbortSignals: piscina never shares a thread with an abortable task and
 * lets those bypass its queue limit.
 */
export class ThreadPool {
  readonly #piscina: Piscina;
  /**
   * Threads whose request ran past its timeout -> that request. They get no new work from the
   * moment of the timeout: either the handler stops within the grace period (released), or the
   * thread is terminated (and anything placed on it in between would die with it).
   */
  readonly #stopped = new Map<number, number>();
  /** Threads terminated for a timed-out request -> that request. */
  readonly #killedFor = new Map<number, number>();
  /** Requests on each thread (a batch counts each of its requests). */
  readonly #load = new Map<number, number>();
  /** Destroyed (or being destroyed): it must never start a thread again. */
  #retired = false;
  /** Each thread's event-loop counters at the previous utilization() call. */
  readonly #elu = new WeakMap<object, EventLoopUtilization>();

  constructor(options: ThreadPoolOptions) {
    const { settings } = options;
    const balancer = { load: this.#load, stopped: this.#stopped, perThread: options.perThread };
    this.#piscina = new Piscina({
      // A plain path, not a file:// URL: piscina parses a URL filename again on every run().
      filename: WORKER_ENTRY,
      name: 'default',
      workerData: options.workerData,
      minThreads: settings.minThreads,
      maxThreads: settings.maxThreads,
      idleTimeout: settings.idleTimeout,
      // FunctionPool's queue bounds what reaches piscina to maxThreads x concurrency; piscina holds
      // tasks only while threads start, and must never reject one.
      maxQueue: settings.maxThreads * options.maxPerThread,
      // The most a thread may ever take; the balancer applies the current limit.
      concurrentTasksPerWorker: options.maxPerThread,
      // 'sync' parks idle threads in Atomics.wait: timers and streams would stall between tasks.
      atomics: 'disabled',
      env: { ...options.env },
      execArgv: ['--enable-source-maps'],
      resourceLimits: { maxOldGenerationSizeMb: Math.max(1, Math.round(settings.memoryLimit / 1024 / 1024)) },
      recordTiming: true,
      loadBalancer: (task, workers) => pickThread(workers, (task as unknown as Record<symbol, Placement | null>)[kPlacement] ?? null, balancer),
    });
    this.#piscina.on('error', (error: Error) => {
      if (!this.#retired) options.onIdleCrash(error);
    });
  }

  /** Live threads. */
  get size(): number {
    return this.#piscina.threads.length;
  }

  /** Threads running at least one request. */
  get busy(): number {
    return this.#load.size;
  }

  /**
   * Mean event-loop utilization of the live threads since the previous call (0..1): the share of
   * time they ran code. Read from each Worker's own counters, so it costs the threads nothing.
   */
  utilization(): number {
    const threads = this.#piscina.threads;
    if (threads.length === 0) return 0;
    let sum = 0;
    for (const thread of threads) {
      const now = thread.performance.eventLoopUtilization();
      const previous = this.#elu.get(thread);
      this.#elu.set(thread, now);
      sum += (previous === undefined ? now : thread.performance.eventLoopUtilization(now, previous)).utilization;
    }
    return sum / threads.length;
  }

  /**
   * Runs one request, or a batch (answered by an array of outcomes). Rejects with ThreadDied
   * when the thread dies under it.
   */
  run(task: Task, placement: Placement | null): Promise<TaskOutcome | TaskOutcome[]> {
    // run() on a destroyed piscina silently starts new threads.
    if (this.#retired) return Promise.reject(new ThreadDied({ cause: 'stopped' }));
    (task as unknown as Record<symbol, Placement | null>)[kPlacement] = placement;
    const bodies: ArrayBuffer[] = [];
    for (const envelope of isBatch(task) ? task : [task]) {
      const body = envelope[Envelope.body];
      if (body !== null) bodies.push(body);
    }
    const running = bodies.length === 0 ? this.#piscina.run(task) : this.#piscina.run(task, { transferList: bodies });
    return (running as Promise<TaskOutcome | TaskOutcome[]>).catch(rethrowAsDeath);
  }

  /**
   * Keeps the thread busy in piscina's eyes while request `requestId` goes on after its reply:
   * piscina stops threads it sees idle after idleTimeout, which would cut a long stream.
   */
  keepBusy(threadId: number, requestId: number): void {
    if (this.#retired) return;
    const placement: Placement = { threadId, size: 0, pinned: true };
    const task = keepBusyEnvelope(requestId);
    (task as unknown as Record<symbol, Placement>)[kPlacement] = placement;
    this.#piscina.run(task).catch(() => {}); // the thread died: nothing left to keep busy
  }

  /** A request placed on this thread left it (answered, failed, or the thread died). */
  released(threadId: number): void {
    const current = this.#load.get(threadId) ?? 0;
    if (current <= 1) this.#load.delete(threadId);
    else this.#load.set(threadId, current - 1);
  }

  /** The thread's event-loop counters now, for blockedSince(). */
  eventLoopOf(threadId: number): EventLoopUtilization | undefined {
    return this.#thread(threadId)?.performance.eventLoopUtilization();
  }

  /**
   * Whether the thread's event loop did nothing but run code since `since` (a handler that never
   * yields). A thread that is gone counts as blocked.
   */
  blockedSince(threadId: number, since: EventLoopUtilization | undefined): boolean {
    const thread = this.#thread(threadId);
    if (thread === undefined || since === undefined) return true;
    return thread.performance.eventLoopUtilization(since).utilization > BLOCKED_UTILIZATION;
  }

  #thread(threadId: number) {
    return this.#piscina.threads.find((t) => t.threadId === threadId);
  }

  /** Requests on this thread now (kept-busy ones included). */
  requestsOn(threadId: number): number {
    return this.#load.get(threadId) ?? 0;
  }

  /** Request `forRequest` on this thread ran past its timeout: place nothing more on the thread. */
  stopPlacing(threadId: number, forRequest: number): void {
    this.#stopped.set(threadId, forRequest);
  }

  /** The timed-out request ended within the grace period: the thread may take work again. */
  resumePlacing(threadId: number): void {
    this.#stopped.delete(threadId);
  }

  /**
   * Terminates every thread without a request (piscina starts new ones only up to minThreads)
   * and resolves once they are gone. Only for a pool nobody sends requests to yet: a task piscina
   * queued while its only thread exits would wait for a thread nobody starts.
   */
  async stopIdleThreads(): Promise<void> {
    const exits: Promise<number>[] = [];
    for (const thread of this.#piscina.threads) {
      const id = thread.threadId;
      if (this.#load.has(id)) continue;
      this.#stopped.set(id, -1);
      exits.push(thread.terminate().finally(() => this.#stopped.delete(id)));
    }
    await Promise.allSettled(exits);
  }

  /** Threads on which placing is stopped now. */
  get stopped(): number {
    return this.#stopped.size;
  }

  /** Terminates a thread on which placing was stopped; piscina replaces it. Resolves once it is gone. */
  kill(threadId: number): Promise<void> {
    const forRequest = this.#stopped.get(threadId);
    // Kept past the exit (thread ids are never reused): the requests that die with the thread are
    // answered after terminate() resolved, and their message names the request that caused it.
    if (forRequest !== undefined && forRequest !== -1) this.#killedFor.set(threadId, forRequest);
    const thread = this.#thread(threadId);
    if (thread === undefined) {
      this.#stopped.delete(threadId);
      return Promise.resolve();
    }
    return thread.terminate().then(
      () => void this.#stopped.delete(threadId),
      () => void this.#stopped.delete(threadId),
    );
  }

  /** The request whose timeout stopped (or killed) this thread, if one did. */
  stoppedFor(threadId: number): number | undefined {
    return this.#stopped.get(threadId) ?? this.#killedFor.get(threadId);
  }

  /**
   * Terminates every thread. Tasks still running are NOT settled by piscina (it ignores thread
   * exits while destroying): FunctionPool answers them itself.
   *
   * minThreads goes to 0 first: the 'exit' of a thread that crashed just before can arrive after
   * destroy() resolved, when piscina no longer knows it is destroyed, and it would start
   * minThreads new threads, which would crash in turn, forever (the workaround angular-cli uses,
   * angular/angular-cli#26073; piscinajs/piscina#427 fixed only the terminate-during-destroy case).
   */
  destroy(): Promise<void> {
    this.#retired = true;
    this.#piscina.options.minThreads = 0;
    return this.#piscina.destroy();
  }
}

/** piscina's rejections, told apart once here: the rest of fngate reads a ThreadDeath. */
function rethrowAsDeath(error: Error & { code?: string }): never {
  throw new ThreadDied(deathOf(error), error);
}

export function deathOf(error: Error & { code?: string }): ThreadDeath {
  if (error instanceof ThreadDied) return error.death;
  if (error.code === 'ERR_WORKER_OUT_OF_MEMORY') return { cause: 'out-of-memory', error };
  // piscina's words for a thread that exited under a task, and for tasks it drops while destroying.
  const exit = /^worker exited with code: (-?\d+)/.exec(error.message);
  if (exit) return { cause: 'exit', exitCode: Number(exit[1]) };
  if (error.message === 'Terminating worker thread') return { cause: 'stopped' };
  return { cause: 'crash', error };
}

function describeDeath(death: ThreadDeath): string {
  switch (death.cause) {
    case 'out-of-memory':
      return `the thread ran out of memory: ${death.error.message}`;
    case 'exit':
      return `the thread exited with code ${death.exitCode}`;
    case 'stopped':
      return 'the thread pool was stopped';
    case 'crash':
      return `the thread crashed: ${death.error.name}: ${death.error.message}`;
  }
}
