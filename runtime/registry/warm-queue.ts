/**
 * Start-up order: functions are loaded on their first threads a few at a time (as many as the
 * machine has cores: more would only make every one of them slower), and a function that a
 * request is waiting for starts at once. Everything else keeps its order (minThreads > 0 before 0,
 * then config order, as the caller enqueues them).
 */
export class WarmQueue {
  readonly #slots: number;
  #running = 0;
  readonly #waiting: { readonly key: string; readonly start: () => void }[] = [];

  constructor(slots: number) {
    this.#slots = Math.max(1, slots);
  }

  /** Runs `task` when a slot is free; resolves with its result. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.#running++;
        task()
          .then(resolve, reject)
          .finally(() => {
            this.#running--;
            this.#next();
          });
      };
      this.#waiting.push({ key, start });
      this.#next();
    });
  }

  /**
   * A request waits for `key`: it starts now, in a slot of its own beyond the others (waiting for
   * a free one cost a request about one more thread start, 50-100 ms on 2 cores), up to twice the
   * slots in all; past that it goes first in the queue. The rest start again once the running
   * count is below the slots.
   */
  prioritize(key: string): void {
    const index = this.#waiting.findIndex((item) => item.key === key);
    if (index < 0) return;
    const [item] = this.#waiting.splice(index, 1);
    if (this.#running < 2 * this.#slots) item!.start();
    else this.#waiting.unshift(item!);
  }

  /** Tasks not started yet. */
  get queued(): number {
    return this.#waiting.length;
  }

  #next(): void {
    while (this.#running < this.#slots && this.#waiting.length > 0) this.#waiting.shift()!.start();
  }
}
