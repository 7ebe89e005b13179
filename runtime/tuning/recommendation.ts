import { AUTO_CONCURRENCY } from '../pool/settings.js';

/**
 * How a request spends its time on its thread: `cpu` computes most of its run, `io` mostly
 * awaits (an upstream, a timer), `light` is over in well under `AUTO_CONCURRENCY.shortMs`
 * either way.
 */
export type HandlerKind = 'cpu' | 'io' | 'light';

/** Settings as config.yaml writes them. */
export interface RecommendedSettings {
  readonly maxThreads: number;
  readonly concurrency: number | 'auto';
  /** A config size: `128mb`, `1gb`. */
  readonly memoryLimit: string;
  /** A config duration: `2s`, `1m`. */
  readonly timeout: string;
  /** Only when the current minThreads would exceed the recommended maxThreads. */
  readonly minThreads?: number;
}

/**
 * The settings a function's measured figures call for, each with its reason. The same shape
 * from `fngate tune` (a load test) and from `GET /_fngate/status` (the last minutes of traffic).
 */
export interface Recommendation {
  /** What the figures come from. */
  readonly basis: 'load test' | 'traffic';
  readonly kind: HandlerKind;
  readonly settings: RecommendedSettings;
  /** Why, per setting, with the figures: `1 thread: 48 req/s, 2: 91 req/s`. */
  readonly reasons: { readonly [K in keyof RecommendedSettings]: string };
  /** What no setting fixes: threads that fight over a shared resource, failures, a saturated load generator. */
  readonly warnings: readonly string[];
  /** The settings as config.yaml lines under the function's name, to paste into `functions:`. */
  readonly yaml: string;
}

/** A function's resolved settings now (milliseconds, bytes). */
export interface CurrentSettings {
  readonly minThreads: number;
  readonly maxThreads: number;
  readonly concurrency: number | 'auto';
  readonly memoryLimit: number;
  readonly timeout: number;
}

/** Below this share of its run a request computes, it is waiting on something: I/O-bound. */
const CPU_SHARE = 0.5;
/** A thread busier than this has no room for bursts: plan threads for 70% busy. */
export const TARGET_BUSY = 0.7;
/** The smallest memoryLimit recommended: a thread's own start-up heap plus room. */
const MIN_MEMORY_MB = 64;
/** Timeouts recommended: the first at or above 5x p99 (at least a second, so a burst is not cut off). */
const TIMEOUT_STEPS_MS = [1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000];
const TIMEOUT_FACTOR = 5;

/** What a request's thread time and run time (ms, both averages) say about the handler. */
export function classify(cpuMsPerRequest: number, runMsPerRequest: number): HandlerKind {
  if (cpuMsPerRequest < AUTO_CONCURRENCY.shortMs && runMsPerRequest < AUTO_CONCURRENCY.shortMs) return 'light';
  // cpuMs counts the thread's busy time, a little more than the handler's own run for a short request.
  return cpuMsPerRequest < CPU_SHARE * runMsPerRequest ? 'io' : 'cpu';
}

/** memoryLimit for a peak heap: the power of two at or above twice the peak, at least 64mb. */
export function memoryLimitFor(peakHeapBytes: number | null, current: number): Part<string> {
  if (peakHeapBytes === null) return { value: configSize(current), reason: 'no heap figure: kept' };
  let mb = MIN_MEMORY_MB;
  while (mb * 1024 * 1024 < 2 * peakHeapBytes) mb *= 2;
  return { value: configSize(mb * 1024 * 1024), reason: `peak heap ${megabytes(peakHeapBytes)} per thread, x2 for headroom` };
}

/** timeout for a p99 latency (ms): 5x it, rounded up to a round duration, at least 1s. */
export function timeoutFor(p99Ms: number | null, current: number): Part<string> {
  if (p99Ms === null) return { value: configDuration(current), reason: 'no latency figure: kept' };
  const wanted = p99Ms * TIMEOUT_FACTOR;
  const ms = TIMEOUT_STEPS_MS.find((step) => step >= wanted) ?? Math.ceil(wanted / 60_000) * 60_000;
  return { value: configDuration(ms), reason: `p99 ${milliseconds(p99Ms)} x ${TIMEOUT_FACTOR}${ms === TIMEOUT_STEPS_MS[0] && wanted < ms ? ', at least 1s' : ''}` };
}

/** minThreads, when it has to come down to the recommended maxThreads (config requires min <= max). */
export function minThreadsFor(current: CurrentSettings, maxThreads: number): Part<number> | undefined {
  if (current.minThreads <= maxThreads) return undefined;
  return { value: maxThreads, reason: `was ${current.minThreads}, above the recommended maxThreads` };
}

/** One setting's value and why. */
export interface Part<T> {
  readonly value: T;
  readonly reason: string;
}

/** Assembles a Recommendation, with its YAML snippet. */
export function recommendation(
  name: string,
  basis: Recommendation['basis'],
  kind: HandlerKind,
  parts: { readonly [K in keyof RecommendedSettings]-?: Part<NonNullable<RecommendedSettings[K]>> | (K extends 'minThreads' ? undefined : never) },
  warnings: readonly string[],
): Recommendation {
  const settings: RecommendedSettings = {
    ...(parts.minThreads !== undefined && { minThreads: parts.minThreads.value }),
    maxThreads: parts.maxThreads.value,
    concurrency: parts.concurrency.value,
    memoryLimit: parts.memoryLimit.value,
    timeout: parts.timeout.value,
  };
  return {
    basis,
    kind,
    settings,
    reasons: {
      ...(parts.minThreads !== undefined && { minThreads: parts.minThreads.reason }),
      maxThreads: parts.maxThreads.reason,
      concurrency: parts.concurrency.reason,
      memoryLimit: parts.memoryLimit.reason,
      timeout: parts.timeout.reason,
    },
    warnings,
    yaml: `${name}:\n${Object.entries(settings)
      .map(([key, value]) => `  ${key}: ${value}\n`)
      .join('')}`,
  };
}

/** Bytes as config.yaml writes a size: `64mb`, `1gb`, else kilobytes or bytes. */
export function configSize(bytes: number): string {
  for (const [unit, factor] of [['gb', 1024 ** 3], ['mb', 1024 ** 2], ['kb', 1024]] as const) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return `${bytes}b`;
}

/** Milliseconds as config.yaml writes a duration: `2s`, `1m`, `250ms`. */
export function configDuration(ms: number): string {
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000 && ms % 1000 === 0) return `${ms / 1000}s`;
  return `${Math.round(ms)}ms`;
}

/** `19 ms`, `0.40 ms`, `1.2 s`: for reasons and tables. */
export function milliseconds(ms: number): string {
  if (ms >= 10_000) return `${Math.round(ms / 1000)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 10) return `${Math.round(ms)} ms`;
  if (ms >= 1) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

/** `41 MB`, `7.3 MB`. */
export function megabytes(bytes: number): string {
  const mb = bytes / 1024 / 1024;
  return `${mb >= 9.95 ? Math.round(mb) : mb.toFixed(1)} MB`;
}

/** `48 req/s`, `9.5 req/s`, `1,204 req/s`. */
export function rate(perSecond: number): string {
  return `${perSecond >= 10 ? Math.round(perSecond).toLocaleString('en-US') : perSecond.toFixed(1)} req/s`;
}
