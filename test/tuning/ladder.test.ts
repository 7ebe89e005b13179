import { describe, expect, it } from 'vitest';
import { nextStep, type StepFigures } from '../../runtime/tuning/ladder.js';

function step(threads: number, concurrency: number | 'auto', requestsPerSecond: number, cpuMsPerRequest: number, runMsPerRequest: number): StepFigures {
  return { threads, concurrency, requestsPerSecond, cpuMsPerRequest, runMsPerRequest, p50Ms: 1, p99Ms: 2, peakHeapBytes: null, machineBusy: 0.5, gatewayBusy: 0.1, loadBusy: 0.1 };
}

/** Runs the ladder against a model of a handler: what each step would measure. */
function climb(measure: (threads: number, concurrency: number | 'auto') => StepFigures, maxThreads: number): string[] {
  const done: StepFigures[] = [];
  for (let next = nextStep(done, maxThreads); next !== null; next = nextStep(done, maxThreads)) done.push(measure(next.threads, next.concurrency));
  return done.map((s) => `${s.threads}x${s.concurrency}`);
}

describe('the tune ladder', () => {
  it('climbs threads up to the cores at concurrency 1 for a CPU-bound handler', () => {
    expect(climb((t, c) => step(t, c, 50 * t, 20, 20), 4)).toEqual(['1x1', '2x1', '3x1', '4x1']);
  });

  it('stops climbing threads after the first that adds less than 10%', () => {
    expect(climb((t, c) => step(t, c, 50 * Math.min(t, 2), 20, 20), 8)).toEqual(['1x1', '2x1', '3x1']);
  });

  it('climbs concurrency 1, 4, 16 on one thread for an I/O-bound handler, then threads at 16', () => {
    const slots = (t: number, c: number | 'auto') => t * (c === 'auto' ? 16 : c);
    expect(climb((t, c) => step(t, c, 20 * slots(t, c), 0.4, 50), 2)).toEqual(['1x1', '1x4', '1x16', '2x16']);
  });

  it('stops climbing concurrency when an upstream takes no more at once', () => {
    const measure = (t: number, c: number | 'auto') => step(t, c, 20 * Math.min(t * (c as number), 4), 0.4, 50);
    expect(climb(measure, 2)).toEqual(['1x1', '1x4', '1x16', '2x4']);
  });

  it('tries auto, which batches, for a light handler', () => {
    expect(climb((t, c) => step(t, c, 3000 * t, 0.05, 0.02), 2)).toEqual(['1x1', '1xauto', '2xauto']);
  });
});
