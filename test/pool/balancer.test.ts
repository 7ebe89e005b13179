import { describe, expect, it } from 'vitest';
import { pickThread, type BalancedThread, type Placement } from '../../runtime/pool/balancer.js';

const thread = (id: number, state: Partial<BalancedThread> = {}): BalancedThread => ({ id, terminating: false, destroyed: false, ...state });
const placement = (size = 1): Placement => ({ threadId: -1, size });

function state(load: Record<number, number>, options: { limit?: number; pack?: boolean; stopped?: number[] } = {}) {
  return {
    load: new Map(Object.entries(load).map(([id, n]) => [Number(id), n])),
    stopped: new Map((options.stopped ?? []).map((id) => [id, 1])),
    perThread: { limit: options.limit ?? 1, pack: options.pack ?? false },
  };
}

describe('pickThread', () => {
  it('spreads work to the least busy thread and records the placement', () => {
    const s = state({ 1: 2, 2: 0, 3: 1 }, { limit: 4 });
    const p = placement();
    expect(pickThread([thread(1), thread(2), thread(3)], p, s)?.id).toBe(2);
    expect(p.threadId).toBe(2);
    expect(s.load.get(2)).toBe(1);
  });

  it('packs tiny requests onto the busiest thread that still has room', () => {
    const s = state({ 1: 2, 2: 0, 3: 3 }, { limit: 4, pack: true });
    expect(pickThread([thread(1), thread(2), thread(3)], placement(), s)?.id).toBe(3);
    expect(s.load.get(3)).toBe(4);
    // Thread 3 is full now: the next goes to the busiest of the rest.
    expect(pickThread([thread(1), thread(2), thread(3)], placement(), s)?.id).toBe(1);
  });

  it('places a batch only where all of it fits, counting each request', () => {
    const s = state({ 1: 14, 2: 10 }, { limit: 16, pack: true });
    const batch = placement(4);
    expect(pickThread([thread(1), thread(2)], batch, s)?.id).toBe(2);
    expect(s.load.get(2)).toBe(14);
    expect(pickThread([thread(1), thread(2)], placement(4), s)).toBeNull();
  });

  it('skips threads being stopped, terminated or destroyed, and answers null when none is left', () => {
    const threads = [thread(1), thread(2, { terminating: true }), thread(3, { destroyed: true })];
    expect(pickThread(threads, placement(), state({}, { stopped: [1] }))).toBeNull();
    expect(pickThread(threads, placement(), state({}))?.id).toBe(1);
  });

  it('returns null at the per-thread limit, so piscina keeps the task until a thread frees up', () => {
    expect(pickThread([thread(1), thread(2)], placement(), state({ 1: 1, 2: 1 }))).toBeNull();
  });

  it('sends a keep-busy task to its own thread without counting it, or to any live thread once that one is gone', () => {
    const s = state({ 1: 1, 2: 1 });
    const pinned: Placement = { threadId: 2, size: 0, pinned: true };
    expect(pickThread([thread(1), thread(2)], pinned, s)?.id).toBe(2);
    expect(s.load.get(2)).toBe(1);
    expect(pickThread([thread(1, { terminating: true }), thread(3)], pinned, s)?.id).toBe(3);
  });

  it('does not record a task without a placement (the warm-up probe)', () => {
    const s = state({});
    expect(pickThread([thread(7)], null, s)?.id).toBe(7);
    expect(s.load.size).toBe(0);
  });
});
