import { classify } from './recommendation.js';

/** One rung of the ladder: the pool settings a load step runs with. */
export interface StepSettings {
  readonly threads: number;
  readonly concurrency: number | 'auto';
}

/** What one load step measured. Rates are per second, times milliseconds, shares 0..1. */
export interface StepFigures extends StepSettings {
  readonly requestsPerSecond: number;
  /** Latency the load generator saw (queue wait included). */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** The threads' busy time per answered request (event-loop utilization, see TaskReply.cpuMs). */
  readonly cpuMsPerRequest: number;
  /** Time per answered request on its thread, waits included. */
  readonly runMsPerRequest: number;
  /** The most V8 heap one thread reported; null when none did. */
  readonly peakHeapBytes: number | null;
  /** Share of the machine's cores busy during the step: fngate, the load generator and anything else running. */
  readonly machineBusy: number;
  /** Share of the time the gateway thread (which every request crosses) was busy. */
  readonly gatewayBusy: number;
  /** Share of the time the load generator's thread was busy. */
  readonly loadBusy: number;
}

/** Concurrency steps for a handler that waits: one thread, this many requests at once. */
export const CONCURRENCY_LADDER = [1, 4, 16] as const;
/** A step must add this much throughput to be worth its thread (or its concurrency). */
export const WORTH = 1.1;

/**
 * The next settings to measure, or null when the ladder is done. The first step runs one
 * request on one thread, which says what kind of handler this is. Then: a handler that waits
 * climbs concurrency 4, 16 on one thread, and threads at the best of those; a computing one
 * climbs threads at concurrency 1; a light one threads at `auto` (which batches). Threads stop
 * at `maxThreads` (the cores), and after the first step that adds less than WORTH.
 */
export function nextStep(done: readonly StepFigures[], maxThreads: number): StepSettings | null {
  const first = done[0];
  if (first === undefined) return { threads: 1, concurrency: 1 };
  const kind = classify(first.cpuMsPerRequest, first.runMsPerRequest);
  if (kind === 'light' && done.length === 1) return { threads: 1, concurrency: 'auto' };
  if (kind === 'io') {
    const climbed = done.filter((step) => step.threads === 1);
    const next = CONCURRENCY_LADDER[climbed.length];
    const last = climbed.at(-1)!;
    const before = climbed.at(-2);
    // Climbing stops once a step adds too little: the upstream takes no more at once.
    if (next !== undefined && (before === undefined || last.requestsPerSecond >= before.requestsPerSecond * WORTH)) {
      return { threads: 1, concurrency: next };
    }
  }
  const concurrency = threadLadderConcurrency(done);
  const rungs = done.filter((step) => step.concurrency === concurrency).sort((a, b) => a.threads - b.threads);
  const top = rungs.at(-1)!;
  const below = rungs.at(-2);
  if (top.threads >= maxThreads) return null;
  if (below !== undefined && top.requestsPerSecond < below.requestsPerSecond * WORTH) return null;
  return { threads: top.threads + 1, concurrency };
}

/** The concurrency the threads ladder runs at: 1, `auto`, or the best of the concurrency steps. */
export function threadLadderConcurrency(done: readonly StepFigures[]): number | 'auto' {
  const first = done[0]!;
  const kind = classify(first.cpuMsPerRequest, first.runMsPerRequest);
  if (kind === 'cpu') return 1;
  if (kind === 'light') return 'auto';
  return bestConcurrency(done.filter((step) => step.threads === 1));
}

/** The highest concurrency whose step still added WORTH over the one below it. */
export function bestConcurrency(oneThread: readonly StepFigures[]): number {
  const steps = oneThread.filter((step): step is StepFigures & { concurrency: number } => step.concurrency !== 'auto').sort((a, b) => a.concurrency - b.concurrency);
  let best = steps[0]!;
  for (const step of steps.slice(1)) {
    if (step.requestsPerSecond < best.requestsPerSecond * WORTH) break;
    best = step;
  }
  return best.concurrency;
}
