import { describe, expect, it } from 'vitest';
import { UsageWindow } from '../../runtime/observe/usage-window.js';

describe('UsageWindow', () => {
  it('averages thread time, run time and queue wait per answered request, and keeps the biggest heap', () => {
    const usage = new UsageWindow();
    usage.answered(1000, 2, 10, 8, 30e6);
    usage.answered(1500, 4, 30, 12, 50e6);
    expect(usage.figures(2000)).toMatchObject({ answered: 2, failed: 0, cpuMsPerRequest: 10, runMsPerRequest: 20, queueMsPerRequest: 3, peakHeapBytes: 50e6 });
  });

  it('forgets requests older than 5 minutes', () => {
    const usage = new UsageWindow();
    usage.answered(0, 0, 10, 10, 1);
    usage.answered(400_000, 0, 20, 20, 2);
    expect(usage.figures(401_000)).toMatchObject({ answered: 1, cpuMsPerRequest: 20, peakHeapBytes: 2 });
  });

  it('rates the busiest 10 seconds, not the average', () => {
    const usage = new UsageWindow();
    for (let i = 0; i < 100; i++) usage.answered(20_000 + i * 10, 0, 1, 1, 1);
    usage.answered(100_000, 0, 1, 1, 1);
    expect(usage.figures(120_000)!.busiestPerSecond).toBe(10);
  });

  it('gives a p99 within a bucket (about 19%) above the true one, counting timed failures', () => {
    const usage = new UsageWindow();
    for (let i = 0; i < 98; i++) usage.answered(1000, 0, 10, 1, 1);
    usage.answered(1000, 0, 300, 1, 1);
    usage.failed(1000, 30_000, true);
    const figures = usage.figures(2000)!;
    expect(figures.p99Ms).toBeGreaterThanOrEqual(300);
    expect(figures.p99Ms).toBeLessThan(300 * 1.19);
    expect(figures).toMatchObject({ failed: 1, timeouts: 1 });
  });

  it('has no figures before any request', () => {
    expect(new UsageWindow().figures(1000)).toBeNull();
  });
});
