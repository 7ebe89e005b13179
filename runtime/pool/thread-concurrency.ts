import { AUTO_CONCURRENCY, PACK_BELOW_MS, type PerThread } from './settings.js';

/**
 * How many requests one thread takes at once: the configured number, or under `auto` a limit
 * that follows the CPU time of recent requests (a handler that mostly waits, on a timer or an
 * upstream, shares its thread however long it takes; one that computes gets a thread to itself).
 * `auto` starts at 1: the first requests tell whether this function's requests are short.
 */
export class ThreadConcurrency {
  /** Read by the balancer on every placement; updated in place. */
  readonly perThread: { limit: number; pack: boolean };
  readonly #auto: boolean;
  /** Average CPU time (ms) of recent requests: how many one thread can interleave. */
  #averageCpuMs = 0;
  /** Average run time (ms, waiting included) of recent requests: whether to batch them. */
  #averageRunMs = 0;

  constructor(concurrency: number | 'auto') {
    this.#auto = concurrency === 'auto';
    this.perThread = { limit: concurrency === 'auto' ? 1 : concurrency, pack: false };
  }

  /** The most requests a thread may ever take. */
  get max(): number {
    return this.#auto ? AUTO_CONCURRENCY.max : this.perThread.limit;
  }

  /** Current settings, as the balancer sees them. */
  get current(): PerThread {
    return this.perThread;
  }

  /**
   * Whether requests go to threads in batches: only under `auto`, with more than one request
   * per thread, for requests that finish quickly (a batch is answered when its last request is,
   * so a fast answer must not wait for a slow neighbour such as a handler awaiting an upstream).
   */
  get batching(): boolean {
    return this.#auto && this.perThread.limit > 1 && this.#averageRunMs < AUTO_CONCURRENCY.shortMs;
  }

  /** A request finished: its CPU time and run time (ms). */
  record(cpuMs: number, runMs: number): void {
    if (!this.#auto) return;
    this.#averageRunMs += (runMs - this.#averageRunMs) * AUTO_CONCURRENCY.weight;
    this.#averageCpuMs += (cpuMs - this.#averageCpuMs) * AUTO_CONCURRENCY.weight;
    if (this.#averageCpuMs < AUTO_CONCURRENCY.shortMs) this.perThread.limit = AUTO_CONCURRENCY.max;
    else if (this.#averageCpuMs > AUTO_CONCURRENCY.longMs) this.perThread.limit = 1;
    this.perThread.pack = this.#averageCpuMs < PACK_BELOW_MS;
  }
}
