import { describe, expect, it } from 'vitest';
import { fixtureConfig } from '../helpers/fixtures.js';
import { errorOf, startRuntime } from '../helpers/runtime.js';

describe('pool limits', () => {
  it('with maxThreads 1 and maxQueue 1 runs one request at a time, queues one, and refuses the rest at once', async () => {
    const { fetch } = await startRuntime({ config: fixtureConfig('basics') });
    const responses = await Promise.all([300, 300, 300, 300].map((ms) => fetch(`/limited?ms=${ms}`)));
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 503, 503]);

    const refused = responses.filter((r) => r.status === 503);
    for (const response of refused) {
      expect(response.headers.get('retry-after')).toBe('1');
      const error = await errorOf(response);
      expect(error.code).toBe('FNGATE_QUEUE_FULL');
      expect(error.message).toMatch(/all 1 threads of limited are busy and 1 requests are already queued/);
    }
    // Observed from inside the function: the two that ran did not overlap, on one thread.
    const runs = (await Promise.all(responses.filter((r) => r.status === 200).map((r) => r.json()))) as {
      threadId: number;
      start: number;
      end: number;
    }[];
    runs.sort((a, b) => a.start - b.start);
    expect(runs[1]!.start).toBeGreaterThanOrEqual(runs[0]!.end);
    expect(new Set(runs.map((r) => r.threadId)).size).toBe(1);
  });

  it('queues requests beyond the threads and runs them all, never more than maxThreads at once', async () => {
    const { fetch } = await startRuntime({ config: fixtureConfig('basics') });
    const responses = await Promise.all(Array.from({ length: 6 }, () => fetch('/pair?ms=150')));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    const runs = (await Promise.all(responses.map((r) => r.json()))) as { threadId: number; start: number; end: number }[];
    // Peak overlap of the [start, end] intervals, as the function itself observed them.
    const events = runs.flatMap((r) => [
      { at: r.start, delta: 1 },
      { at: r.end, delta: -1 },
    ]);
    events.sort((a, b) => a.at - b.at || a.delta - b.delta);
    let running = 0;
    let peak = 0;
    for (const event of events) peak = Math.max(peak, (running += event.delta));
    expect(peak).toBeLessThanOrEqual(2);
    expect(new Set(runs.map((r) => r.threadId)).size).toBeLessThanOrEqual(2);
  });
});
