import { QUEUED, type Job } from './job.js';

/**
 * FIFO of jobs waiting for a thread slot. A job that leaves early (timeout, client gone) is
 * not spliced out: its state changes and the queue skips it, so every operation is O(1).
 */
export class JobQueue {
  #items: (Job | undefined)[] = [];
  #head = 0;
  #size = 0;

  /** Calls still waiting. */
  get size(): number {
    return this.#size;
  }

  push(job: Job): void {
    this.#items.push(job);
    this.#size++;
  }

  /** The oldest job still waiting, taken out of the queue. */
  shift(): Job | undefined {
    while (this.#head < this.#items.length) {
      const job = this.#items[this.#head];
      this.#items[this.#head++] = undefined;
      if (job !== undefined && job.state === QUEUED) {
        this.#size--;
        this.#compact();
        return job;
      }
    }
    this.#compact();
    return undefined;
  }

  /** A job left while waiting (its state is no longer QUEUED). */
  left(): void {
    this.#size--;
    this.#compact();
  }

  /** Takes every job still waiting out of the queue. */
  drain(): Job[] {
    const waiting = this.#items.slice(this.#head).filter((job): job is Job => job?.state === QUEUED);
    this.#items = [];
    this.#head = 0;
    this.#size = 0;
    return waiting;
  }

  #compact(): void {
    if (this.#size === 0) {
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items.splice(0, this.#head);
      this.#head = 0;
    }
  }
}
