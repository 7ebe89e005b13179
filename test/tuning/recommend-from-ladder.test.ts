import { describe, expect, it } from 'vitest';
import type { StepFigures } from '../../runtime/tuning/ladder.js';
import { recommendFromLadder, type LadderContext } from '../../runtime/tuning/recommend-from-ladder.js';

const MB = 1024 * 1024;

/** A step with quiet defaults: the machine half busy, nothing saturated. */
function step(threads: number, concurrency: number | 'auto', requestsPerSecond: number, figures: Partial<StepFigures> = {}): StepFigures {
  return {
    threads,
    concurrency,
    requestsPerSecond,
    p50Ms: 40,
    p99Ms: 62,
    cpuMsPerRequest: 20,
    runMsPerRequest: 20.5,
    peakHeapBytes: 12 * MB,
    machineBusy: 0.5,
    gatewayBusy: 0.05,
    loadBusy: 0.05,
    ...figures,
  };
}

const context = (cores: number, current: Partial<LadderContext['current']> = {}): LadderContext => ({
  name: 'sort',
  cores,
  current: { minThreads: 1, maxThreads: cores, concurrency: 'auto', memoryLimit: 512 * MB, timeout: 30_000, ...current },
});

/** An I/O-bound handler: 50 ms on its thread, 0.4 ms of it CPU. */
const io = { cpuMsPerRequest: 0.4, runMsPerRequest: 50.5 };

describe('recommendFromLadder', () => {
  it('gives a CPU-bound handler one request per thread and every core that added throughput', () => {
    const advice = recommendFromLadder([step(1, 1, 48), step(2, 1, 91)], context(2));
    expect(advice).toMatchObject({ basis: 'load test', kind: 'cpu', settings: { maxThreads: 2, concurrency: 1 } });
    expect(advice.reasons.maxThreads).toBe('1 thread: 48 req/s, 2: 91 req/s; 2 cores: no more to try');
    expect(advice.reasons.concurrency).toBe('CPU-bound: 20 ms CPU per request, one at a time per thread');
    expect(advice.warnings).toEqual([]);
  });

  it('stops at the thread that added less than 10% when the machine had no core left', () => {
    const advice = recommendFromLadder([step(1, 1, 48), step(2, 1, 91), step(3, 1, 93, { runMsPerRequest: 22, machineBusy: 0.97 })], context(4));
    expect(advice.settings.maxThreads).toBe(2);
    expect(advice.reasons.maxThreads).toContain("3 threads: +2% req/s over 2, with the machine's cores 97% busy");
    expect(advice.warnings).toEqual([]);
  });

  it('tells a handler whose requests slow down with more threads, on idle cores, that they fight over a shared resource', () => {
    const advice = recommendFromLadder([step(1, 1, 50, { runMsPerRequest: 20 }), step(2, 1, 51, { runMsPerRequest: 39, p99Ms: 130, machineBusy: 0.55 })], context(2));
    expect(advice.settings.maxThreads).toBe(1);
    expect(advice.reasons.maxThreads).toContain('threads contend');
    expect(advice.warnings).toHaveLength(1);
    expect(advice.warnings[0]).toMatch(/^threads fight over a shared resource: 2 threads: \+2% req\/s over 1 while each request took 39 ms on its thread instead of 20 ms \(p50 40 ms -> 40 ms, p99 62 ms -> 130 ms\)/);
  });

  it('tells of contention also when the extra thread added some throughput, but less than half of what it could', () => {
    const advice = recommendFromLadder([step(1, 1, 74, { runMsPerRequest: 11 }), step(2, 1, 87, { runMsPerRequest: 20, machineBusy: 0.6 })], context(2));
    expect(advice.settings.maxThreads).toBe(1);
    expect(advice.warnings[0]).toMatch(/^threads fight over a shared resource: 2 threads: \+18% req\/s over 1/);
  });

  it('says it cannot tell contention from a lack of cores when the machine was full, and keeps a thread that helped', () => {
    const advice = recommendFromLadder([step(1, 1, 74, { runMsPerRequest: 11 }), step(2, 1, 87, { runMsPerRequest: 20, machineBusy: 0.99 })], context(2));
    expect(advice.settings.maxThreads).toBe(2);
    expect(advice.warnings[0]).toContain('the threads wait either for a core or for each other');
  });

  it('tells an I/O-bound handler to raise concurrency, not threads, even when more threads add slots', () => {
    const steps = [step(1, 1, 19.6, io), step(1, 4, 78, io), step(1, 16, 305, io), step(2, 16, 590, io)];
    const advice = recommendFromLadder(steps, context(2));
    expect(advice).toMatchObject({ kind: 'io', settings: { maxThreads: 1, concurrency: 16 } });
    expect(advice.reasons.maxThreads).toContain('raise concurrency, not threads');
    expect(advice.reasons.maxThreads).toContain('2 threads gave 590 req/s only by letting 32 requests wait at once');
    expect(advice.reasons.concurrency).toBe('I/O-bound: 51 ms per request, 0.40 ms of it CPU; 1 thread, 1 at once: 20 req/s, 4: 78 req/s, 16: 305 req/s (may go higher)');
  });

  it('keeps concurrency at the step after which more requests at once stopped adding throughput', () => {
    const advice = recommendFromLadder([step(1, 1, 19.6, io), step(1, 4, 70, io), step(1, 16, 72, io)], context(2));
    expect(advice.settings.concurrency).toBe(4);
  });

  it('leaves a light handler on auto concurrency', () => {
    const light = { cpuMsPerRequest: 0.05, runMsPerRequest: 0.02 };
    const advice = recommendFromLadder([step(1, 1, 3000, light), step(1, 'auto', 9000, light), step(2, 'auto', 9100, { ...light, gatewayBusy: 0.97 })], context(2));
    expect(advice).toMatchObject({ kind: 'light', settings: { concurrency: 'auto' } });
  });

  it('keeps threads that had time to spare, however much the next step gained with twice the requests in flight', () => {
    const light = { cpuMsPerRequest: 0.07, runMsPerRequest: 0.01, gatewayBusy: 0.92 };
    const advice = recommendFromLadder([step(1, 1, 779, light), step(1, 'auto', 3439, light), step(2, 'auto', 5344, light)], context(2));
    expect(advice.settings.maxThreads).toBe(1);
    expect(advice.reasons.maxThreads).toBe('1 thread: 3,439 req/s, 2: 5,344 req/s: 1 thread was only 24% busy, so more add requests in flight, not CPU; the gateway thread, 92% busy, is the limit');
  });

  it('sizes memoryLimit at twice the peak heap, rounded up to a power of two, and timeout at 5x p99', () => {
    const advice = recommendFromLadder([step(1, 1, 48, { peakHeapBytes: 41 * MB, p99Ms: 310 })], context(1));
    expect(advice.settings).toMatchObject({ memoryLimit: '128mb', timeout: '2s' });
    expect(advice.reasons.memoryLimit).toBe('peak heap 41 MB per thread, x2 for headroom');
    expect(advice.reasons.timeout).toBe('p99 310 ms x 5');
    const small = recommendFromLadder([step(1, 1, 48, { peakHeapBytes: 7 * MB, p99Ms: 40 })], context(1));
    expect(small.settings).toMatchObject({ memoryLimit: '64mb', timeout: '1s' });
  });

  it('lowers minThreads only when it would exceed the recommended maxThreads', () => {
    const advice = recommendFromLadder([step(1, 1, 50, { runMsPerRequest: 20 }), step(2, 1, 50, { runMsPerRequest: 40 })], context(2, { minThreads: 2 }));
    expect(advice.settings).toMatchObject({ minThreads: 1, maxThreads: 1 });
    expect(recommendFromLadder([step(1, 1, 48), step(2, 1, 91)], context(2)).settings).not.toHaveProperty('minThreads');
  });

  it('writes the settings as a YAML snippet under the function name', () => {
    const advice = recommendFromLadder([step(1, 1, 48, { peakHeapBytes: 41 * MB, p99Ms: 310 }), step(2, 1, 91, { peakHeapBytes: 41 * MB, p99Ms: 310 })], context(2));
    expect(advice.yaml).toBe('sort:\n  maxThreads: 2\n  concurrency: 1\n  memoryLimit: 128mb\n  timeout: 2s\n');
  });

  it('passes on why the ladder stopped, and a load generator that was itself saturated', () => {
    const advice = recommendFromLadder([step(1, 1, 48, { loadBusy: 0.96 })], { ...context(2), stopped: 'stopped at 2 threads: 12 requests failed' });
    expect(advice.warnings[0]).toBe('stopped at 2 threads: 12 requests failed');
    expect(advice.warnings[1]).toContain("the load generator's thread was 96% busy at 1 thread x 1");
  });
});
