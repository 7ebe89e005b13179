import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CrashBackoff } from '../../runtime/pool/crash-backoff.js';
import { CRASH_LOOP } from '../../runtime/pool/settings.js';

describe('CrashBackoff', () => {
  let now = 0;
  beforeEach(() => {
    vi.useFakeTimers();
    now = 1_000_000;
  });
  afterEach(() => void vi.useRealTimers());

  it('counts idle crashes within the window only', () => {
    const backoff = new CrashBackoff(() => now);
    expect(backoff.idleCrash()).toBe(1);
    now += CRASH_LOOP.windowMs - 1;
    expect(backoff.idleCrash()).toBe(2);
    now += 2;
    // The first crash is now older than the window.
    expect(backoff.idleCrash()).toBe(2);
  });

  it('counts timeouts of unplaced requests in a row, until a thread takes work', () => {
    const backoff = new CrashBackoff(() => now);
    expect(backoff.unplacedTimeout()).toBe(1);
    expect(backoff.unplacedTimeout()).toBe(2);
    backoff.threadTookWork();
    expect(backoff.unplacedTimeout()).toBe(1);
  });

  it('pauses once at a time, resumes after the delay, and doubles the next delay up to the maximum', () => {
    const backoff = new CrashBackoff(() => now);
    const resumed: number[] = [];
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      const pause = backoff.pause(`loop ${i}`, () => resumed.push(i));
      expect(pause).toBeDefined();
      expect(backoff.pause('again', () => resumed.push(-1))).toBeUndefined();
      expect(backoff.paused?.reason).toBe(`loop ${i}`);
      delays.push(pause!.ms);
      vi.advanceTimersByTime(pause!.ms);
      expect(backoff.paused).toBeUndefined();
    }
    expect(resumed).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000].map((ms) => Math.min(ms, CRASH_LOOP.maxBackoffMs)));
  });

  it('tells whole seconds left for Retry-After, at least 1', () => {
    const backoff = new CrashBackoff(() => now);
    backoff.pause('loop', () => {});
    expect(backoff.secondsLeft()).toBe(1);
    now += 999;
    expect(backoff.secondsLeft()).toBe(1);
  });

  it('never resumes a cancelled pause, and forgets old crashes after one', () => {
    const backoff = new CrashBackoff(() => now);
    backoff.idleCrash();
    backoff.idleCrash();
    let resumed = false;
    backoff.pause('loop', () => (resumed = true));
    backoff.cancel();
    vi.advanceTimersByTime(CRASH_LOOP.maxBackoffMs);
    expect(resumed).toBe(false);
    const other = new CrashBackoff(() => now);
    other.idleCrash();
    other.idleCrash();
    other.pause('loop', () => {});
    vi.advanceTimersByTime(CRASH_LOOP.firstBackoffMs);
    expect(other.idleCrash()).toBe(1);
  });
});
