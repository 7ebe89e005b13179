import type { TrafficFigures } from '../tuning/recommend-from-traffic.js';

/** The window is made of slots this long... */
const SLOT_MS = 10_000;
/** ...this many of them: the last 5 minutes (the current slot is partly over). */
const WINDOW_SLOTS = 30;
/** Slots kept: a power of two above WINDOW_SLOTS, so a slot is found with a mask. */
const RING = 32;
/**
 * Latencies are counted in buckets 2^(1/4) apart (each about 19% wider than the one below),
 * from 0.09 ms (bucket 0, and anything faster) to 10 minutes and more (the last).
 */
const PER_DOUBLING = 4;
const FIRST_EXPONENT = -3.5;
const BUCKETS = 96;

/**
 * What one function's answered requests cost over the last 5 minutes, in 10-second slots: how
 * many, their thread time, run time and queue wait, the biggest heap a thread reported, and
 * their latency as a coarse histogram (for a p99 over minutes, which the 20-second ring of
 * FunctionStats cannot give). Recording is a few typed-array stores on the gateway thread; the
 * figures are summed when someone asks. Allocated by the first answer (about 14 KB).
 */
export class UsageWindow {
  #slots: Slots | undefined;

  /** An answered request; times in milliseconds, `now` from performance.now(). */
  answered(now: number, queueMs: number, runMs: number, cpuMs: number, heapBytes: number): void {
    const slots = (this.#slots ??= newSlots());
    const slot = this.#slotFor(slots, now);
    slots.answered[slot]!++;
    slots.cpuMs[slot]! += cpuMs;
    slots.runMs[slot]! += runMs;
    slots.queueMs[slot]! += queueMs;
    if (heapBytes > slots.heapBytes[slot]!) slots.heapBytes[slot] = heapBytes;
    slots.latency[slot * BUCKETS + bucketOf(queueMs + runMs)]!++;
  }

  /** A failed request; `totalMs` is NaN for failures that took no time worth counting (refused at once). */
  failed(now: number, totalMs: number, timedOut: boolean): void {
    const slots = (this.#slots ??= newSlots());
    const slot = this.#slotFor(slots, now);
    slots.failed[slot]!++;
    if (timedOut) slots.timeouts[slot]!++;
    if (!Number.isNaN(totalMs)) slots.latency[slot * BUCKETS + bucketOf(totalMs)]!++;
  }

  /** The window's figures; null before any request. */
  figures(now: number): TrafficFigures | null {
    const slots = this.#slots;
    if (slots === undefined) return null;
    const current = Math.floor(now / SLOT_MS);
    let answered = 0;
    let failed = 0;
    let timeouts = 0;
    let cpuMs = 0;
    let runMs = 0;
    let queueMs = 0;
    let heapBytes = 0;
    let busiest = 0;
    let oldest = current;
    const latency = new Float64Array(BUCKETS);
    for (let i = 0; i < RING; i++) {
      const epoch = slots.epoch[i]!;
      if (epoch <= current - WINDOW_SLOTS || epoch > current) continue;
      oldest = Math.min(oldest, epoch);
      answered += slots.answered[i]!;
      failed += slots.failed[i]!;
      timeouts += slots.timeouts[i]!;
      cpuMs += slots.cpuMs[i]!;
      runMs += slots.runMs[i]!;
      queueMs += slots.queueMs[i]!;
      heapBytes = Math.max(heapBytes, slots.heapBytes[i]!);
      // The current slot's rate is over the part of it that is over (at least a second, so a
      // first request alone is not taken for a burst).
      const spanMs = epoch === current ? Math.max(1000, now - current * SLOT_MS) : SLOT_MS;
      busiest = Math.max(busiest, ((slots.answered[i]! + slots.failed[i]!) * 1000) / spanMs);
      for (let b = 0; b < BUCKETS; b++) latency[b]! += slots.latency[i * BUCKETS + b]!;
    }
    if (answered + failed === 0) return null;
    return {
      seconds: Math.round((now - oldest * SLOT_MS) / 1000),
      answered,
      failed,
      timeouts,
      cpuMsPerRequest: answered === 0 ? 0 : round3(cpuMs / answered),
      runMsPerRequest: answered === 0 ? 0 : round3(runMs / answered),
      queueMsPerRequest: answered === 0 ? 0 : round3(queueMs / answered),
      busiestPerSecond: Math.round(busiest * 10) / 10,
      p99Ms: percentile(latency, 0.99),
      peakHeapBytes: heapBytes === 0 ? null : heapBytes,
    };
  }

  /** The ring index of the slot `now` falls in, cleared when it last held an older slot. */
  #slotFor(slots: Slots, now: number): number {
    const epoch = Math.floor(now / SLOT_MS);
    const slot = epoch & (RING - 1);
    if (slots.epoch[slot] !== epoch) {
      slots.epoch[slot] = epoch;
      slots.answered[slot] = 0;
      slots.failed[slot] = 0;
      slots.timeouts[slot] = 0;
      slots.cpuMs[slot] = 0;
      slots.runMs[slot] = 0;
      slots.queueMs[slot] = 0;
      slots.heapBytes[slot] = 0;
      slots.latency.fill(0, slot * BUCKETS, (slot + 1) * BUCKETS);
    }
    return slot;
  }
}

interface Slots {
  readonly epoch: Float64Array;
  readonly answered: Uint32Array;
  readonly failed: Uint32Array;
  readonly timeouts: Uint32Array;
  readonly cpuMs: Float64Array;
  readonly runMs: Float64Array;
  readonly queueMs: Float64Array;
  readonly heapBytes: Float64Array;
  /** RING x BUCKETS counts. */
  readonly latency: Uint32Array;
}

function newSlots(): Slots {
  return {
    epoch: new Float64Array(RING).fill(-1),
    answered: new Uint32Array(RING),
    failed: new Uint32Array(RING),
    timeouts: new Uint32Array(RING),
    cpuMs: new Float64Array(RING),
    runMs: new Float64Array(RING),
    queueMs: new Float64Array(RING),
    heapBytes: new Float64Array(RING),
    latency: new Uint32Array(RING * BUCKETS),
  };
}

function bucketOf(ms: number): number {
  if (!(ms > 0)) return 0;
  const bucket = Math.ceil((Math.log2(ms) - FIRST_EXPONENT) * PER_DOUBLING);
  return bucket < 0 ? 0 : bucket >= BUCKETS ? BUCKETS - 1 : bucket;
}

/** The upper bound (ms) of the bucket the q-quantile falls in: at most 19% above the true value. */
function percentile(counts: Float64Array, q: number): number | null {
  let total = 0;
  for (const count of counts) total += count;
  if (total === 0) return null;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let b = 0; b < BUCKETS; b++) {
    seen += counts[b]!;
    if (seen >= rank) return Math.round(2 ** (b / PER_DOUBLING + FIRST_EXPONENT) * 100) / 100;
  }
  return null;
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
