import type { Percentiles } from './status-report.js';
import { isTimedFailure } from '../common/errors.js';
import type { TrafficFigures } from '../tuning/recommend-from-traffic.js';
import { UsageWindow } from './usage-window.js';

/** Percentiles cover the requests of the last 20 seconds... */
const WINDOW_MS = 20_000;
/** ...at most this many of the most recent ones (a power of two). */
const SAMPLES = 8192;
/** req/s is averaged over this many seconds. */
const RATE_SECONDS = 5;
/** Seconds of per-second counts kept (a power of two, > RATE_SECONDS). */
const RING = 8;
const LAST_ERRORS = 5;

/** HTTP statuses counted in an array; anything else (nonstandard) in a map. */
const STATUS_SLOTS = 600;

export interface RecentError {
  readonly at: string;
  readonly code: string;
  readonly status: number;
  readonly message: string;
}

export interface ReloadRecord {
  readonly at: string;
  readonly ok: boolean;
  readonly ms: number;
  readonly version: number | null;
  readonly error: string | null;
}

/**
 * What one function has done since the process started, kept across its versions (a reload
 * does not reset it): answers by status and error code, recent latency percentiles, req/s,
 * the last errors and reloads. It runs for every request on the gateway thread, so recording
 * is a few stores into typed arrays (measured: Node's histograms, native calls, cost about 5% of
 * hello's throughput); the percentiles are computed when someone asks.
 */
export class FunctionStats {
  completed = 0;
  readonly failures = new Map<string, number>();
  readonly lastErrors: RecentError[] = [];
  reloads = 0;
  lastReload: ReloadRecord | null = null;
  /** Thread busy time and run time of every answered request since start (ms): counters. */
  cpuMs = 0;
  runMs = 0;
  readonly #usage = new UsageWindow();
  readonly #statusCounts = new Uint32Array(STATUS_SLOTS);
  readonly #otherStatuses = new Map<number, number>();
  /**
   * The last SAMPLES answers: when (performance.now()), queue wait, run time and their total
   * (ms). A failure has only a total (NaN for the others). Allocated by the first answer: 256 KB
   * for a function nobody calls would be most of an idle project of a hundred functions.
   */
  #ring: Ring | undefined;
  #samples = 0;
  readonly #second = new Float64Array(RING).fill(-1);
  readonly #count = new Float64Array(RING);

  /** A request answered with the handler's own response. Times in milliseconds; heapBytes as the thread last sampled it. */
  answered(status: number, queueMs: number, runMs: number, cpuMs: number, heapBytes: number): void {
    this.completed++;
    this.cpuMs += cpuMs;
    this.runMs += runMs;
    this.#countStatus(status);
    const now = performance.now();
    this.#usage.answered(now, queueMs, runMs, cpuMs, heapBytes);
    const ring = (this.#ring ??= newRing());
    const slot = this.#samples++ & (SAMPLES - 1);
    ring.at[slot] = now;
    ring.queueMs[slot] = queueMs;
    ring.runMs[slot] = runMs;
    ring.totalMs[slot] = queueMs + runMs;
    this.#countRate(now);
  }

  /** A request answered with an fngate error (timeout, crash, queue full, client gone...). */
  failed(code: string, status: number, message: string, totalMs: number): void {
    this.failures.set(code, (this.failures.get(code) ?? 0) + 1);
    this.#countStatus(status);
    const now = performance.now();
    const timed = isTimedFailure(code);
    this.#usage.failed(now, timed ? totalMs : NaN, code === 'FNGATE_TIMEOUT');
    // A timeout, a crash, a throwing handler count in `total` with the time they took.
    if (timed) {
      const ring = (this.#ring ??= newRing());
      const slot = this.#samples++ & (SAMPLES - 1);
      ring.at[slot] = now;
      ring.queueMs[slot] = NaN;
      ring.runMs[slot] = NaN;
      ring.totalMs[slot] = totalMs;
    }
    this.#countRate(now);
    this.lastErrors.unshift({ at: new Date().toISOString(), code, status, message });
    if (this.lastErrors.length > LAST_ERRORS) this.lastErrors.length = LAST_ERRORS;
  }

  reloaded(record: Omit<ReloadRecord, 'at'>): void {
    this.reloads++;
    this.lastReload = { at: new Date().toISOString(), ...record };
  }

  /** HTTP status -> answers. */
  byStatus(): Record<string, number> {
    const counts: Record<string, number> = {};
    this.#statusCounts.forEach((count, status) => {
      if (count > 0) counts[String(status)] = count;
    });
    for (const [status, count] of this.#otherStatuses) counts[String(status)] = count;
    return counts;
  }

  /** Requests answered per second over the last RATE_SECONDS seconds. */
  perSecond(): number {
    const nowMs = performance.now();
    const now = Math.floor(nowMs / 1000);
    let total = 0;
    for (let i = 0; i < RING; i++) {
      if (this.#second[i]! > now - RATE_SECONDS) total += this.#count[i]!;
    }
    // The current second is only partly over.
    const span = RATE_SECONDS - 1 + (nowMs / 1000 - now);
    return Math.round((total / span) * 10) / 10;
  }

  /** What the requests of the last 5 minutes cost (see UsageWindow); null before any. */
  usage(): TrafficFigures | null {
    return this.#usage.figures(performance.now());
  }

  queuePercentiles(): Percentiles | null {
    return this.#percentiles('queueMs');
  }

  runPercentiles(): Percentiles | null {
    return this.#percentiles('runMs');
  }

  /** Queue wait plus run of every request that got an answer in time or failed on the way (timeouts included). */
  totalPercentiles(): Percentiles | null {
    return this.#percentiles('totalMs');
  }

  #percentiles(kind: 'queueMs' | 'runMs' | 'totalMs'): Percentiles | null {
    const ring = this.#ring;
    if (ring === undefined) return null;
    const values = ring[kind];
    const since = performance.now() - WINDOW_MS;
    const held = Math.min(this.#samples, SAMPLES);
    const recent: number[] = [];
    for (let i = 0; i < held; i++) if (ring.at[i]! >= since && !Number.isNaN(values[i]!)) recent.push(values[i]!);
    if (recent.length === 0) return null;
    recent.sort((a, b) => a - b);
    const at = (p: number) => recent[Math.min(recent.length - 1, Math.ceil((p / 100) * recent.length) - 1)]!;
    return { p50: round(at(50)), p99: round(at(99)), max: round(recent[recent.length - 1]!), count: recent.length };
  }

  #countStatus(status: number): void {
    if (status >= 0 && status < STATUS_SLOTS) this.#statusCounts[status]!++;
    else this.#otherStatuses.set(status, (this.#otherStatuses.get(status) ?? 0) + 1);
  }

  #countRate(nowMs: number): void {
    const second = Math.floor(nowMs / 1000);
    const slot = second & (RING - 1);
    if (this.#second[slot] !== second) {
      this.#second[slot] = second;
      this.#count[slot] = 0;
    }
    this.#count[slot]!++;
  }
}

interface Ring {
  readonly at: Float64Array;
  readonly queueMs: Float64Array;
  readonly runMs: Float64Array;
  readonly totalMs: Float64Array;
}

function newRing(): Ring {
  return { at: new Float64Array(SAMPLES), queueMs: new Float64Array(SAMPLES), runMs: new Float64Array(SAMPLES), totalMs: new Float64Array(SAMPLES) };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
