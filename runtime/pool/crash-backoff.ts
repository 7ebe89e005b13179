import { CRASH_LOOP } from './settings.js';

/** A pause after a crash loop: why, and until when (epoch ms). */
export interface Pause {
  readonly reason: string;
  readonly until: number;
  /** How long it lasts. */
  readonly ms: number;
}

/**
 * Tells a crash loop from a crash, and paces the restarts. Threads that die outside any request
 * CRASH_LOOP.crashes times within CRASH_LOOP.windowMs, or that many requests in a row that time
 * out before any thread takes them (threads that never start), pause the pool: no threads for
 * 1 s, then 2 s, 4 s, ... up to 30 s, so a module that kills every fresh thread does not make
 * piscina respawn threads in a busy loop.
 */
export class CrashBackoff {
  readonly #now: () => number;
  #crashTimes: number[] = [];
  /** Timeouts of requests no thread took, since a thread last took one. */
  #unplacedTimeouts = 0;
  #pause: (Pause & { readonly timer: NodeJS.Timeout }) | undefined;
  #nextDelayMs: number = CRASH_LOOP.firstBackoffMs;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** The current pause, if the pool is paused. */
  get paused(): Pause | undefined {
    return this.#pause;
  }

  /** A thread died outside any request; returns how many did within the window (a loop at CRASH_LOOP.crashes). */
  idleCrash(): number {
    const now = this.#now();
    this.#crashTimes = this.#crashTimes.filter((time) => now - time < CRASH_LOOP.windowMs);
    this.#crashTimes.push(now);
    return this.#crashTimes.length;
  }

  /** A request timed out before any thread took it; returns how many did in a row. */
  unplacedTimeout(): number {
    return ++this.#unplacedTimeouts;
  }

  /** A thread took a request: threads do start. */
  threadTookWork(): void {
    this.#unplacedTimeouts = 0;
  }

  /**
   * Starts a pause; `resume` runs when it is over. Returns the pause, or undefined when one is
   * already running. Each pause lasts twice as long as the previous one, up to the maximum.
   */
  pause(reason: string, resume: () => void): Pause | undefined {
    if (this.#pause !== undefined) return undefined;
    const delay = this.#nextDelayMs;
    this.#nextDelayMs = Math.min(delay * 2, CRASH_LOOP.maxBackoffMs);
    const timer = setTimeout(() => {
      this.#pause = undefined;
      this.#crashTimes = [];
      this.#unplacedTimeouts = 0;
      resume();
    }, delay);
    this.#pause = { reason, until: this.#now() + delay, ms: delay, timer };
    return this.#pause;
  }

  /** Whole seconds left in the pause (at least 1), for Retry-After. */
  secondsLeft(): number {
    return this.#pause === undefined ? 0 : Math.max(1, Math.ceil((this.#pause.until - this.#now()) / 1000));
  }

  /** The pool is closing: a pause in progress never resumes it. */
  cancel(): void {
    if (this.#pause !== undefined) clearTimeout(this.#pause.timer);
  }
}
