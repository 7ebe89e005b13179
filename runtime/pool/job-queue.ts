import { QUEUED, type Call } from './job.js';

/**
 * FIFO of calls waiting for a thread slot. A call that leaves early (timeout, client gone) is
 * not spliced out: its state changes and the queue skips it, so every operation is O(1).
 */
export class CallQueue {
  #items: (Call | undefined)[] = [];
  #head = 0;
  #size = 0;

  /** Calls still waiting. */
  get size(): number {
    return this.#size;
  }

  push(call: Call): void {
    this.#items.push(call);
    this.#size++;
  }

  /** The oldest call still waiting, taken out of the queue. */
  shift(): Call | undefined {
    while (this.#head < this.#items.length) {
      const call = this.#items[this.#head];
      this.#items[this.#head++] = undefined;
      if (call !== undefined && call.state === QUEUED) {
        this.#size--;
        this.#compact();
        return call;
      }
    }
    this.#compact();
    return undefined;
  }

  /** A call left while waiting (its state is no longer QUEUED). */
  left(): void {
    this.#size--;
    this.#compact();
  }

  /** Takes every call still waiting out of the queue. */
  drain(): Call[] {
    const waiting = this.#items.slice(this.#head).filter((call): call is Call => call?.state === QUEUED);
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
