import { bestConcurrency, threadLadderConcurrency, WORTH, type StepFigures } from './ladder.js';
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
  type Part,
  type Recommendation,
} from './recommendation.js';

export interface LadderContext {
  readonly name: string;
  /** Cores of this machine: the ladder's top. */
  readonly cores: number;
  readonly current: CurrentSettings;
  /** Why the ladder stopped before its end (failures under load), for the warnings. */
  readonly stopped?: string;
}

/** With the machine's cores this busy, a step that adds nothing had no core left to use. */
const MACHINE_FULL = 0.85;
/** A gateway thread this busy is what limits the throughput, not the function's threads. */
const GATEWAY_FULL = 0.9;
/** A load generator this busy may be measuring itself. */
const LOAD_FULL = 0.9;
/** Requests this much slower on their thread with more threads (for little more throughput) wait for something. */
const SLOWER = 1.3;

/**
 * The settings a `fngate tune` ladder's figures call for. Pure: the same figures give the same
 * recommendation, reasons and warnings.
 */
export function recommendFromLadder(steps: readonly StepFigures[], context: LadderContext): Recommendation {
  const base = steps[0];
  if (base === undefined) throw new Error('recommendFromLadder needs at least one step');
  const kind = classify(base.cpuMsPerRequest, base.runMsPerRequest);
  const warnings: string[] = [];
  if (context.stopped !== undefined) warnings.push(context.stopped);
  const overloaded = steps.filter((step) => step.loadBusy >= LOAD_FULL);
  if (overloaded.length > 0) {
    warnings.push(
      `the load generator's thread was ${Math.round(overloaded[0]!.loadBusy * 100)}% busy at ${describe(overloaded[0]!)}: the req/s there may be its limit rather than fngate's`,
    );
  }

  const ladderConcurrency = threadLadderConcurrency(steps);
  const concurrency = concurrencyPart(kind, steps, base);
  const threads = threadsPart(kind, steps, ladderConcurrency, context, warnings);
  const chosen = steps.find((step) => step.threads === threads.value && step.concurrency === ladderConcurrency) ?? base;
  const peakHeap = steps.reduce<number | null>((peak, step) => (step.peakHeapBytes === null ? peak : Math.max(peak ?? 0, step.peakHeapBytes)), null);
  return recommendation(
    context.name,
    'load test',
    kind,
    {
      minThreads: minThreadsFor(context.current, threads.value),
      maxThreads: threads,
      concurrency,
      memoryLimit: memoryLimitFor(peakHeap, context.current.memoryLimit),
      timeout: timeoutFor(chosen.p99Ms, context.current.timeout),
    },
    warnings,
  );
}

function concurrencyPart(kind: ReturnType<typeof classify>, steps: readonly StepFigures[], base: StepFigures): Part<number | 'auto'> {
  const cpu = milliseconds(base.cpuMsPerRequest);
  if (kind === 'cpu') return { value: 1, reason: `CPU-bound: ${cpu} CPU per request, one at a time per thread` };
  if (kind === 'light') return { value: 'auto', reason: `light: ${cpu} CPU per request; auto hands a thread up to 16 at once, in batches` };
  const oneThread = steps.filter((step) => step.threads === 1 && step.concurrency !== 'auto');
  const best = bestConcurrency(oneThread);
  const ladder = oneThread.map((step, i) => `${i === 0 ? `${step.concurrency} at once` : step.concurrency}: ${rate(step.requestsPerSecond)}`).join(', ');
  const waiting = `I/O-bound: ${milliseconds(base.runMsPerRequest)} per request, ${cpu} of it CPU`;
  return { value: best, reason: `${waiting}; 1 thread, ${ladder}${best === oneThread.at(-1)?.concurrency && oneThread.length > 1 ? ' (may go higher)' : ''}` };
}

function threadsPart(
  kind: ReturnType<typeof classify>,
  steps: readonly StepFigures[],
  concurrency: number | 'auto',
  context: LadderContext,
  warnings: string[],
): Part<number> {
  const rungs = steps.filter((step) => step.concurrency === concurrency).sort((a, b) => a.threads - b.threads);
  const ladder = rungs.map((step, i) => `${i === 0 ? `${step.threads} thread` : step.threads}: ${rate(step.requestsPerSecond)}`).join(', ');
  const first = rungs[0]!;

  if (kind === 'io') {
    // Threads add slots as much as concurrency does, but cost a thread each: only CPU is a reason for them.
    const busy = busyShare(first);
    if (busy < TARGET_BUSY) {
      const more = rungs[1];
      const also = more === undefined ? '' : `; ${more.threads} threads gave ${rate(more.requestsPerSecond)} only by letting ${more.threads * (concurrency as number)} requests wait at once`;
      return { value: 1, reason: `I/O-bound: at ${concurrency} at once 1 thread served ${rate(first.requestsPerSecond)} busy ${Math.round(busy * 100)}% of the time${also}: raise concurrency, not threads` };
    }
  }

  let kept = first;
  for (const step of rungs.slice(1)) {
    // Threads that had time to spare cannot be what the next step gained by: it had twice the
    // requests in flight too (2 per slot), which concurrency gives without a thread.
    const spare = busyShare(kept);
    if (spare < TARGET_BUSY) {
      const were = kept.threads === 1 ? '1 thread was' : `${kept.threads} threads were`;
      const gateway = kept.gatewayBusy >= GATEWAY_FULL ? `; the gateway thread, ${Math.round(kept.gatewayBusy * 100)}% busy, is the limit` : '';
      return { value: kept.threads, reason: `${ladder}: ${were} only ${Math.round(spare * 100)}% busy, so more add requests in flight, not CPU${gateway}` };
    }
    const ratio = step.requestsPerSecond / kept.requestsPerSecond;
    const gain = `${step.threads} threads: ${signedPercent(ratio)} req/s over ${kept.threads}`;
    // Each request slower on its thread, for less than half the throughput the extra threads
    // could add: they wait for something. Idle cores rule out waiting for a core.
    const slower = step.runMsPerRequest >= kept.runMsPerRequest * SLOWER;
    const halfIdeal = 1 + (step.threads / kept.threads - 1) / 2;
    if (slower && ratio < halfIdeal) {
      const figures =
        `${gain} while each request took ${milliseconds(step.runMsPerRequest)} on its thread instead of ${milliseconds(kept.runMsPerRequest)} ` +
        `(p50 ${milliseconds(kept.p50Ms)} -> ${milliseconds(step.p50Ms)}, p99 ${milliseconds(kept.p99Ms)} -> ${milliseconds(step.p99Ms)})`;
      if (step.machineBusy < MACHINE_FULL) {
        warnings.push(
          `threads fight over a shared resource: ${figures}, with the machine's cores only ${Math.round(step.machineBusy * 100)}% busy: they wait for each other ` +
            `(a lock, a shared upstream or file). More threads only make each request slower; keep maxThreads ${kept.threads}, or remove the shared resource`,
        );
        return { value: kept.threads, reason: `${ladder}: threads contend (see warnings)` };
      }
      warnings.push(
        `${figures}, with the machine's cores ${Math.round(step.machineBusy * 100)}% busy (other processes count): the threads wait either for a core or for ` +
          `each other (a lock, a shared upstream); run tune on a quieter machine to tell which`,
      );
    }
    if (ratio >= WORTH) {
      kept = step;
      continue;
    }
    if (step.machineBusy >= MACHINE_FULL) {
      return { value: kept.threads, reason: `${ladder}: ${gain}, with the machine's cores ${Math.round(step.machineBusy * 100)}% busy (load generator included): no core left to add` };
    }
    if (step.gatewayBusy >= GATEWAY_FULL) {
      return { value: kept.threads, reason: `${ladder}: the gateway thread was ${Math.round(step.gatewayBusy * 100)}% busy, so it is the limit, not threads` };
    }
    return { value: kept.threads, reason: `${ladder}: ${gain}, not worth a thread` };
  }
  const top = kept.threads >= context.cores ? `; ${context.cores} cores: no more to try` : '';
  return { value: kept.threads, reason: `${ladder}${top}` };
}

/** Share of its threads' time a step kept them busy (their busy time per request x req/s, per thread). */
function busyShare(step: StepFigures): number {
  return (step.requestsPerSecond * step.cpuMsPerRequest) / 1000 / step.threads;
}

function describe(step: StepFigures): string {
  return `${step.threads} thread${step.threads === 1 ? '' : 's'} x ${step.concurrency}`;
}

function signedPercent(ratio: number): string {
  const percent = Math.round((ratio - 1) * 100);
  return `${percent >= 0 ? '+' : ''}${percent}%`;
}
