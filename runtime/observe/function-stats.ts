import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import type { Percentiles } from '../admin/status-types.js';

/** Percentiles cover the current window and the one before it: between 10 and 20 seconds. */
const WINDOW_MS = 10_000;
/** req/s is averaged over this many seconds. */
const RATE_SECONDS = 5;
/** Seconds of per-second counts kept (a power of two, > RATE_SECONDS). */
const RING = 8;
const LAST_ERRORS = 5;

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
 * the last errors and reloads. Recording costs a few counters and two histogram updates (Node's
 * HDR histograms, as piscina uses): it runs for every request on the gateway thread.
 */
export class FunctionStats {
  completed = 0;
  readonly failures = new Map<string, number>();
  readonly byStatus = new Map<number, number>();
  readonly lastErrors: RecentError[] = [];
  reloads = 0;
  lastReload: ReloadRecord | null = null;
  #windowStart = performance.now();
  #queue: [RecordableHistogram, RecordableHistogram] = [createHistogram(), createHistogram()];
  #run: [RecordableHistogram, RecordableHistogram] = [createHistogram(), createHistogram()];
  readonly #second = new Float64Array(RING).fill(-1);
  readonly #count = new Float64Array(RING);

  /** A request answered with the handler's own response. Times in milliseconds. */
  answered(status: number, queueMs: number, runMs: number): void {
    this.completed++;
    this.#countStatus(status);
    const now = this.#tick();
    this.#queue[1].record(toMicros(queueMs));
    this.#run[1].record(toMicros(runMs));
    this.#countRate(now);
  }

  /** A request answered with an fngate error (timeout, crash, queue full, client gone...). */
  failed(code: string, status: number, message: string): void {
    this.failures.set(code, (this.failures.get(code) ?? 0) + 1);
    this.#countStatus(status);
    this.#countRate(this.#tick());
    this.lastErrors.unshift({ at: new Date().toISOString(), code, status, message });
    if (this.lastErrors.length > LAST_ERRORS) this.lastErrors.length = LAST_ERRORS;
  }

  reloaded(record: Omit<ReloadRecord, 'at'>): void {
    this.reloads++;
    this.lastReload = { at: new Date().toISOString(), ...record };
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

  queuePercentiles(): Percentiles | null {
    this.#tick();
    return percentiles(this.#queue);
  }

  runPercentiles(): Percentiles | null {
    this.#tick();
    return percentiles(this.#run);
  }

  #countStatus(status: number): void {
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
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

  /** Starts a new percentile window when the current one is over. */
  #tick(): number {
    const now = performance.now();
    if (now - this.#windowStart >= WINDOW_MS) {
      const stale = now - this.#windowStart >= 2 * WINDOW_MS;
      this.#windowStart = now;
      this.#queue = rotate(this.#queue, stale);
      this.#run = rotate(this.#run, stale);
    }
    return now;
  }
}

/** [previous, current] -> [current, fresh]; both fresh when nothing was recorded for two windows. */
function rotate(pair: [RecordableHistogram, RecordableHistogram], stale: boolean): [RecordableHistogram, RecordableHistogram] {
  const previous = pair[0];
  previous.reset();
  if (stale) {
    pair[1].reset();
    return pair;
  }
  return [pair[1], previous];
}

function percentiles(pair: [RecordableHistogram, RecordableHistogram]): Percentiles | null {
  const merged = createHistogram();
  merged.add(pair[0]);
  merged.add(pair[1]);
  if (merged.count === 0) return null;
  return {
    p50: fromMicros(merged.percentile(50)),
    p99: fromMicros(merged.percentile(99)),
    max: fromMicros(merged.max),
    count: merged.count,
  };
}

/** Histograms record positive integers: microseconds, at least 1. */
function toMicros(ms: number): number {
  return Math.max(1, Math.round(ms * 1000));
}

function fromMicros(us: number): number {
  return Math.round(us) / 1000;
}
