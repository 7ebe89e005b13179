import { AUTO_CONCURRENCY } from '../pool/settings.js';
import {
  classify,
  memoryLimitFor,
  milliseconds,
  minThreadsFor,
  rate,
  recommendation,
  TARGET_BUSY,
  timeoutFor,
  type CurrentSettings,
  type HandlerKind,
  type Part,
  type Recommendation,
} from './recommendation.js';

/** What a function's requests did over the last minutes (see observe/usage-window.ts). Times in ms. */
export interface TrafficFigures {
  /** How far back the figures reach. */
  readonly seconds: number;
  readonly answered: number;
  /** Answered with an fngate error (timeouts included). */
  readonly failed: number;
  readonly timeouts: number;
  /** Averages over answered requests: thread busy time, time on the thread, wait for a thread. */
  readonly cpuMsPerRequest: number;
  readonly runMsPerRequest: number;
  readonly queueMsPerRequest: number;
  /** Requests per second in the busiest 10 seconds. */
  readonly busiestPerSecond: number;
  /** Queue wait plus run, failures included; null without samples. */
  readonly p99Ms: number | null;
  /** The most V8 heap one thread reported; null when none did. */
  readonly peakHeapBytes: number | null;
}

export interface TrafficContext {
  readonly name: string;
  readonly cores: number;
  readonly current: CurrentSettings;
}

/**
 * Fewer answers than this say too little to recommend anything: a thread's first requests also
 * pay for compiling fngate's and the function's code (about 80 ms of CPU here), which would
 * make a light handler look CPU-bound over the first few dozen.
 */
export const MIN_ANSWERS = 100;
/** Concurrency steps recommended for a waiting handler. */
const CONCURRENCY_STEPS = [4, 16, 32, 64, 128, 256];
/** In-flight requests x this: room for bursts above the busiest 10 s. */
const SLOT_HEADROOM = 1.5;

/**
 * The settings the last minutes of real traffic call for, or null with too little of it. Pure.
 * Traffic shows what threads were asked for, not what more would give (only `fngate tune`
 * measures that), so it raises a limit only when requests waited for a thread, and never takes
 * a quiet spell for a reason to lower maxThreads, except for a handler that waits on I/O.
 */
export function recommendFromTraffic(figures: TrafficFigures, context: TrafficContext): Recommendation | null {
  if (figures.answered < MIN_ANSWERS) return null;
  const kind = classify(figures.cpuMsPerRequest, figures.runMsPerRequest);
  const waited = figures.queueMsPerRequest >= Math.max(1, 0.2 * figures.runMsPerRequest);
  const threads = threadsPart(kind, figures, context, waited);
  const warnings: string[] = [];
  const span = figures.seconds >= 90 ? `${Math.round(figures.seconds / 60)} minutes` : `${figures.seconds} s`;
  if (figures.timeouts > 0) warnings.push(`${figures.timeouts} request${figures.timeouts === 1 ? '' : 's'} timed out in the last ${span}`);
  const other = figures.failed - figures.timeouts;
  if (other > 0) warnings.push(`${other} other request${other === 1 ? '' : 's'} failed in the last ${span}: see the last errors`);
  return recommendation(
    context.name,
    'traffic',
    kind,
    {
      minThreads: minThreadsFor(context.current, threads.value),
      maxThreads: threads,
      concurrency: concurrencyPart(kind, figures, context, threads.value, waited),
      memoryLimit: memoryLimitFor(figures.peakHeapBytes, context.current.memoryLimit),
      timeout: timeoutFor(figures.p99Ms, context.current.timeout),
    },
    warnings,
  );
}

function threadsPart(kind: HandlerKind, figures: TrafficFigures, context: TrafficContext, waited: boolean): Part<number> {
  const { cores, current } = context;
  const cpu = milliseconds(figures.cpuMsPerRequest);
  const busiest = rate(figures.busiestPerSecond);
  const demand = (figures.busiestPerSecond * figures.cpuMsPerRequest) / 1000;
  const worth = `${demand.toFixed(2)} cores' worth (${busiest} x ${cpu} CPU)`;
  if (kind === 'io') {
    const needed = Math.min(cores, Math.max(1, Math.ceil(demand / TARGET_BUSY)));
    return { value: needed, reason: `I/O-bound: the busiest 10 s needed ${worth}; concurrency, not threads, lets more requests wait at once` };
  }
  if (waited) {
    const wait = `requests waited ${milliseconds(figures.queueMsPerRequest)} on average for a thread`;
    if (current.maxThreads >= cores) {
      return { value: Math.min(current.maxThreads, cores), reason: `${wait}, with every core in use (${cores}): more threads add no CPU; make the handler cheaper` };
    }
    const value = Math.min(cores, Math.max(current.maxThreads + 1, Math.ceil(demand / TARGET_BUSY)));
    return { value, reason: `${wait} at ${current.maxThreads} (busiest 10 s: ${worth}): up to ${value} (cores: ${cores})` };
  }
  if (kind === 'cpu' && current.maxThreads > cores) {
    return { value: cores, reason: `CPU-bound (${cpu} CPU per request): more threads than cores (${cores}) add no CPU` };
  }
  return { value: current.maxThreads, reason: `no request waited for a thread; the busiest 10 s used ${worth}` };
}

function concurrencyPart(kind: HandlerKind, figures: TrafficFigures, context: TrafficContext, threads: number, waited: boolean): Part<number | 'auto'> {
  const cpu = milliseconds(figures.cpuMsPerRequest);
  if (kind === 'cpu') return { value: 1, reason: `CPU-bound: ${cpu} CPU per request, one at a time per thread` };
  if (kind === 'light') return { value: 'auto', reason: `light: ${cpu} CPU per request; auto hands a thread up to 16 at once, in batches` };
  const inFlight = (figures.busiestPerSecond * figures.runMsPerRequest) / 1000;
  const perThread = Math.ceil((inFlight * SLOT_HEADROOM) / threads);
  const current = context.current.concurrency;
  // What `auto` runs at for these requests: 16 while they cost under shortMs of CPU, else 1.
  const autoGives = figures.cpuMsPerRequest < AUTO_CONCURRENCY.shortMs ? AUTO_CONCURRENCY.max : 1;
  const now = current === 'auto' ? autoGives : current;
  const wanted = waited ? Math.max(perThread, now * 2) : perThread;
  const value = CONCURRENCY_STEPS.find((step) => step >= wanted) ?? CONCURRENCY_STEPS.at(-1)!;
  const flight = `I/O-bound: about ${inFlight.toFixed(1)} requests in flight in the busiest 10 s (${rate(figures.busiestPerSecond)} x ${milliseconds(figures.runMsPerRequest)}), ${cpu} CPU each`;
  if (!waited && current === 'auto' && value <= autoGives) return { value: 'auto', reason: `${flight}: auto already runs up to ${autoGives} at once` };
  if (!waited && current !== 'auto' && value <= current) return { value: current, reason: `${flight}: ${current} at once per thread is enough` };
  return { value, reason: `${flight}${waited ? `; requests waited ${milliseconds(figures.queueMsPerRequest)} for a slot` : ''}: ${value} at once per thread` };
}
