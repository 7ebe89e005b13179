import { describe, expect, it } from 'vitest';
import { AUTO_CONCURRENCY } from '../../runtime/pool/settings.js';
import { ThreadConcurrency } from '../../runtime/pool/thread-concurrency.js';

describe('ThreadConcurrency', () => {
  it('keeps a configured number whatever requests cost, and never batches', () => {
    const c = new ThreadConcurrency(3);
    for (let i = 0; i < 20; i++) c.record(0.01, 0.01);
    expect(c.perThread).toEqual({ limit: 3, pack: false });
    expect(c.max).toBe(3);
    expect(c.batching).toBe(false);
  });

  it('under auto starts at one request per thread, then lets cheap requests share a thread, packed and batched', () => {
    const c = new ThreadConcurrency('auto');
    expect(c.perThread.limit).toBe(1);
    expect(c.max).toBe(AUTO_CONCURRENCY.max);
    for (let i = 0; i < 10; i++) c.record(0.05, 0.1);
    expect(c.perThread).toEqual({ limit: AUTO_CONCURRENCY.max, pack: true });
    expect(c.batching).toBe(true);
  });

  it('under auto shares threads among requests that mostly wait, without batching them', () => {
    const c = new ThreadConcurrency('auto');
    for (let i = 0; i < 20; i++) c.record(0.5, 50);
    expect(c.perThread).toEqual({ limit: AUTO_CONCURRENCY.max, pack: false });
    expect(c.batching).toBe(false);
  });

  it('under auto gives CPU-heavy requests a thread each, and keeps the limit between the two thresholds', () => {
    const c = new ThreadConcurrency('auto');
    for (let i = 0; i < 10; i++) c.record(0.1, 0.1);
    for (let i = 0; i < 30; i++) c.record(40, 40);
    expect(c.perThread.limit).toBe(1);
    expect(c.batching).toBe(false);
    // Between shortMs and longMs nothing changes: no flapping around one threshold.
    const between = (AUTO_CONCURRENCY.shortMs + AUTO_CONCURRENCY.longMs) / 2;
    for (let i = 0; i < 60; i++) c.record(between, between);
    expect(c.perThread.limit).toBe(1);
  });
});
