import { Piscina } from 'piscina';
import type { PoolSettings } from './function-pool.js';
import type { FunctionWorkerData, TaskEnvelope, TaskOutcome } from './protocol.js';

/** Where piscina placed a task; the load balancer fills it in. */
export interface Placement {
  threadId: number;
}

export interface ThreadPoolOptions {
  readonly workerData: FunctionWorkerData;
  readonly settings: PoolSettings;
  /** The process env of every thread: exactly the declared env plus NODE_ENV. */
  readonly env: Readonly<Record<string, string>>;
  /** A thread died while running no task (a timer threw after the response, a crash at load). */
  readonly onIdleCrash: (error: Error) => void;
}

const WORKER_ENTRY = new URL('./worker-entry.mjs', import.meta.url).href;

// piscina hands each task's `[queueOptionsSymbol]` value to the load balancer; we put the task's
// Placement there to learn which thread runs it (symbol keys are not cloned to the worker).
const kPlacement = Piscina.queueOptionsSymbol;

/**
 * One Piscina instance: the threads of one function version. FunctionPool may replace it (after
 * a crash loop), which is why it is a separate object. Never given AbortSignals: piscina never
 * shares a thread with an abortable task and lets those bypass its queue limit.
 */
export class ThreadPool {
  readonly #piscina: Piscina;
  /** Threads being terminated -> the request whose timeout caused it. */
  readonly #killed = new Map<number, number>();

  constructor(options: ThreadPoolOptions) {
    const { settings } = options;
    const killed = this.#killed;
    this.#piscina = new Piscina({
      filename: WORKER_ENTRY,
      name: 'default',
      workerData: options.workerData,
      minThreads: settings.minThreads,
      maxThreads: settings.maxThreads,
      idleTimeout: settings.idleTimeout,
      // FunctionPool's queue bounds what reaches piscina to the thread count; piscina holds tasks
      // only while threads start, and must never reject one.
      maxQueue: settings.maxThreads,
      concurrentTasksPerWorker: 1,
      // 'sync' parks idle threads in Atomics.wait: timers and streams would stall between tasks.
      atomics: 'disabled',
      env: { ...options.env },
      execArgv: ['--enable-source-maps'],
      resourceLimits: { maxOldGenerationSizeMb: Math.max(1, Math.round(settings.memoryLimit / 1024 / 1024)) },
      recordTiming: true,
      loadBalancer: (task, workers) => {
        // piscina's least-busy choice, skipping threads being terminated, and recording the
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
        const placement = (task as unknown as Record<symbol, Placement | null>)[kPlacement];
        if (candidate !== null && placement != null) placement.threadId = candidate.id;
        return candidate;
      },
    });
    this.#piscina.on('error', (error: Error) => options.onIdleCrash(error));
  }

  /** Live threads. */
  get size(): number {
    return this.#piscina.threads.length;
  }

  run(envelope: TaskEnvelope, placement: Placement | null): Promise<TaskOutcome> {
    (envelope as unknown as Record<symbol, Placement | null>)[kPlacement] = placement;
    const body = envelope.body;
    return (body === null ? this.#piscina.run(envelope) : this.#piscina.run(envelope, { transferList: [body] })) as Promise<TaskOutcome>;
  }

  /** Terminates one thread because request `forRequest` on it ran past its timeout. */
  kill(threadId: number, forRequest: number): void {
    const thread = this.#piscina.threads.find((t) => t.threadId === threadId);
    if (thread === undefined) return;
    this.#killed.set(threadId, forRequest);
    void thread.terminate().finally(() => this.#killed.delete(threadId));
  }

  /** The request whose timeout made us terminate this thread, if we did. */
  killedFor(threadId: number): number | undefined {
    return this.#killed.get(threadId);
  }

  /**
   * Terminates every thread. Tasks still running are NOT settled by piscina (it ignores thread
   * exits while destroying): FunctionPool answers them itself.
   */
  destroy(): Promise<void> {
    return this.#piscina.destroy();
  }
}
