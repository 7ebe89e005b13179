import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Batcher } from '../../runtime/pool/batcher.js';
import { Job, type JobOwner } from '../../runtime/pool/job.js';
import { BATCH_WAIT_MS } from '../../runtime/pool/settings.js';
import { ThreadConcurrency } from '../../runtime/pool/thread-concurrency.js';

const owner: JobOwner = { cancel() {}, onTimeout() {}, onKillGraceOver() {} };
let nextId = 1;
const job = () => new Job(owner, [nextId++, 'GET', 'http://x/', [], null, null, 0]);

/** A concurrency that has seen cheap requests: batching is on, 16 per thread. */
function cheap(): ThreadConcurrency {
  const concurrency = new ThreadConcurrency('auto');
  for (let i = 0; i < 10; i++) concurrency.record(0.05, 0.1);
  return concurrency;
}

function batcher(concurrency: ThreadConcurrency, maxThreads = 2) {
  const sent: { ids: number[]; asBatch: boolean }[] = [];
  const b = new Batcher({ maxThreads, concurrency, dispatch: (jobs, asBatch) => void sent.push({ ids: jobs.map((j) => j.envelope[0]), asBatch }) });
  return { b, sent };
}

describe('Batcher', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('sends each job alone and at once when batching is off', () => {
    const { b, sent } = batcher(new ThreadConcurrency(4));
    const [a, c] = [job(), job()];
    b.add(a);
    b.add(c);
    expect(sent).toEqual([
      { ids: [a.envelope[0]], asBatch: false },
      { ids: [c.envelope[0]], asBatch: false },
    ]);
    expect(b.size).toBe(0);
  });

  it('sends the jobs of one event-loop turn as one batch at the end of the turn', () => {
    const { b, sent } = batcher(cheap());
    const jobs = [job(), job(), job()];
    for (const j of jobs) b.add(j);
    expect(sent).toEqual([]);
    expect(b.size).toBe(3);
    vi.runOnlyPendingTimers(); // the setImmediate
    expect(sent).toEqual([{ ids: jobs.map((j) => j.envelope[0]), asBatch: true }]);
    expect(b.inFlight).toBe(1);
  });

  it('keeps at most maxThreads batches in flight; the rest go when one returns or after BATCH_WAIT_MS', () => {
    const { b, sent } = batcher(cheap(), 1);
    b.add(job());
    vi.runOnlyPendingTimers();
    expect(sent).toHaveLength(1);
    const waiting = [job(), job()];
    for (const j of waiting) b.add(j);
    vi.advanceTimersByTime(1); // end of turn: a batch is in flight already, so they wait
    expect(sent).toHaveLength(1);
    expect(b.size).toBe(2);
    vi.advanceTimersByTime(BATCH_WAIT_MS);
    expect(sent).toHaveLength(2);
    expect(sent[1]).toEqual({ ids: waiting.map((j) => j.envelope[0]), asBatch: true });
    expect(b.inFlight).toBe(2);
    b.batchReturned();
    b.batchReturned();
    expect(b.inFlight).toBe(0);
  });

  it('splits a large burst into batches of the per-thread limit', () => {
    const concurrency = cheap();
    const { b, sent } = batcher(concurrency, 4);
    const jobs = Array.from({ length: concurrency.perThread.limit * 2 + 1 }, job);
    for (const j of jobs) b.add(j);
    vi.runOnlyPendingTimers();
    expect(sent.map((s) => s.ids.length)).toEqual([concurrency.perThread.limit, concurrency.perThread.limit, 1]);
  });

  it('forgets a job that left before it was sent, and gives back every reserved job on takeAll', () => {
    const { b, sent } = batcher(cheap());
    const [a, c, d] = [job(), job(), job()];
    b.add(a);
    b.add(c);
    b.add(d);
    b.remove(c);
    expect(b.size).toBe(2);
    expect(b.takeAll()).toEqual([a, d]);
    vi.runOnlyPendingTimers();
    expect(sent).toEqual([]);
    expect(b.size).toBe(0);
  });
});
