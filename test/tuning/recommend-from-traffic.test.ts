import { describe, expect, it } from 'vitest';
import { recommendFromTraffic, type TrafficContext, type TrafficFigures } from '../../runtime/tuning/recommend-from-traffic.js';

const MB = 1024 * 1024;

function traffic(figures: Partial<TrafficFigures>): TrafficFigures {
  return {
    seconds: 240,
    answered: 1000,
    failed: 0,
    timeouts: 0,
    cpuMsPerRequest: 19,
    runMsPerRequest: 19.5,
    queueMsPerRequest: 0,
    busiestPerSecond: 20,
    p99Ms: 60,
    peakHeapBytes: 20 * MB,
    ...figures,
  };
}

const context = (current: Partial<TrafficContext['current']> = {}, cores = 2): TrafficContext => ({
  name: 'hash',
  cores,
  current: { minThreads: 1, maxThreads: 1, concurrency: 'auto', memoryLimit: 512 * MB, timeout: 30_000, ...current },
});

describe('recommendFromTraffic', () => {
  it('recommends nothing from fewer than 100 answered requests', () => {
    expect(recommendFromTraffic(traffic({ answered: 99 }), context())).toBeNull();
  });

  it('raises maxThreads toward the cores for a CPU-bound handler whose requests waited for a thread', () => {
    const advice = recommendFromTraffic(traffic({ queueMsPerRequest: 120, busiestPerSecond: 50 }), context())!;
    expect(advice).toMatchObject({ basis: 'traffic', kind: 'cpu', settings: { maxThreads: 2, concurrency: 1 } });
    expect(advice.reasons.maxThreads).toContain('requests waited 120 ms on average for a thread at 1');
    expect(advice.yaml).toBe('hash:\n  maxThreads: 2\n  concurrency: 1\n  memoryLimit: 64mb\n  timeout: 1s\n');
  });

  it('does not raise maxThreads past the cores however long requests wait', () => {
    const advice = recommendFromTraffic(traffic({ queueMsPerRequest: 400, busiestPerSecond: 95 }), context({ maxThreads: 2 }))!;
    expect(advice.settings.maxThreads).toBe(2);
    expect(advice.reasons.maxThreads).toContain('more threads add no CPU');
  });

  it('keeps maxThreads when no request waited', () => {
    const advice = recommendFromTraffic(traffic({ busiestPerSecond: 5 }), context({ maxThreads: 2 }))!;
    expect(advice.settings.maxThreads).toBe(2);
    expect(advice.reasons.maxThreads).toMatch(/^no request waited for a thread/);
  });

  it('tells an I/O-bound handler whose requests waited to raise concurrency, not threads', () => {
    const advice = recommendFromTraffic(traffic({ cpuMsPerRequest: 0.4, runMsPerRequest: 50, queueMsPerRequest: 200, busiestPerSecond: 20 }), context({ maxThreads: 2, concurrency: 1 }))!;
    expect(advice).toMatchObject({ kind: 'io', settings: { maxThreads: 1 } });
    expect(advice.settings.concurrency).toBeGreaterThanOrEqual(4);
    expect(advice.reasons.concurrency).toContain('requests waited 200 ms for a slot');
  });

  it('leaves auto concurrency alone for an I/O-bound handler it already serves', () => {
    const advice = recommendFromTraffic(traffic({ cpuMsPerRequest: 0.4, runMsPerRequest: 50, busiestPerSecond: 40 }), context())!;
    expect(advice.settings).toMatchObject({ maxThreads: 1, concurrency: 'auto' });
    expect(advice.reasons.concurrency).toContain('auto already runs up to 16 at once');
  });

  it('warns about timeouts and other failures in the window', () => {
    const advice = recommendFromTraffic(traffic({ failed: 5, timeouts: 3 }), context())!;
    expect(advice.warnings).toEqual(['3 requests timed out in the last 4 minutes', '2 other requests failed in the last 4 minutes: see the last errors']);
  });
});
