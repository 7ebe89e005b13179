import { once } from 'node:events';
import type { EventLoopUtilization } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { LOAD_WORKER } from '../common/runtime-files.js';

/** One burst of load against one URL. */
export interface LoadOptions {
  readonly url: string;
  readonly method: string;
  /** Header name -> value. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array | null;
  /** Connections kept busy at once, each sending its next request as soon as it has an answer. */
  readonly connections: number;
  readonly seconds: number;
  /** A request without an answer after this long counts as a client-side timeout. */
  readonly timeoutSeconds: number;
}

/** What the load generator saw. Latencies are whole milliseconds (autocannon's resolution). */
export interface LoadResult {
  readonly answered: number;
  readonly seconds: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** HTTP status -> answers. */
  readonly statuses: Readonly<Record<string, number>>;
  /** Requests that got no answer: connection errors, and client-side timeouts (counted in both). */
  readonly errors: number;
  readonly timeouts: number;
  /** Share of the run the generator's thread was busy, 0..1: about the share of a core it used. */
  readonly busy: number;
}

/**
 * autocannon on a worker thread of this process (tuning/load-worker.mjs), so that generating
 * load takes neither the gateway's event loop nor a second process to start, and its busy time
 * can be read from outside: `busy` says how much of a core the load itself took from the
 * machine being measured.
 */
export class LoadGenerator {
  readonly #worker: Worker;

  private constructor(worker: Worker) {
    this.#worker = worker;
  }

  static async start(): Promise<LoadGenerator> {
    const worker = new Worker(LOAD_WORKER);
    try {
      // Its first message says autocannon loaded; an 'error' (say, autocannon missing) rejects.
      await once(worker, 'message');
    } catch (error) {
      await worker.terminate();
      throw error;
    }
    return new LoadGenerator(worker);
  }

  async run(options: LoadOptions): Promise<LoadResult> {
    const before: EventLoopUtilization = this.#worker.performance.eventLoopUtilization();
    const answered = once(this.#worker, 'message');
    this.#worker.postMessage(options);
    const [reply] = (await answered) as [Omit<LoadResult, 'busy'> | { error: string }];
    if ('error' in reply) throw new Error(`the load generator failed: ${reply.error}`);
    return { ...reply, busy: this.#worker.performance.eventLoopUtilization(before).utilization };
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}
