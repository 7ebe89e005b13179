/** How close() may shorten its wait for a pool's requests: not at all, now (`force`), or after `graceMs`. */
export interface DrainOptions {
  readonly force?: boolean;
  readonly graceMs?: number;
}

/**
 * close()'s wait for a pool to run out of requests: it ends when the pool says it is idle
 * (`idle`), or earlier when hurried. Closing again (shutdown while a reload's old version
 * drains) only hurries it.
 */
export class Drain {
  #waiting: (() => void)[] = [];
  readonly #timers: NodeJS.Timeout[] = [];

  /** Resolves when `idle()` is next called, or when hurried. */
  wait(options: DrainOptions): Promise<void> {
    const drained = new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.hurry(options);
    return drained;
  }

  /** Whether a wait is on (the pool then calls `idle()` whenever it may be idle). */
  get waiting(): boolean {
    return this.#waiting.length > 0;
  }

  /** Ends the wait now (`force`) or after `graceMs`; nothing when not waiting (any more). */
  hurry(options: DrainOptions): void {
    if (!this.waiting) return;
    if (options.force) this.idle();
    else if (options.graceMs !== undefined) this.#timers.push(setTimeout(() => this.idle(), options.graceMs));
  }

  /** The pool is idle: the wait is over. */
  idle(): void {
    for (const resolve of this.#waiting.splice(0)) resolve();
  }

  /** Clears the grace timers once the pool is closed. */
  dispose(): void {
    for (const timer of this.#timers) clearTimeout(timer);
  }
}
