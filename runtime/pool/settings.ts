/** A function pool's settings and the fixed numbers of its policies, in one place. */
import type { ResolvedPoolSettings } from '../config/resolve-config.js';

/** What config.yaml resolves for a function's pool (milliseconds, bytes): the config owns them. */
export type PoolSettings = ResolvedPoolSettings;

/**
 * `concurrency: auto`. Requests that cost little CPU gain most from handing a thread several at
 * once (for a trivial handler, one wake-up per batch instead of per request: about 2x the
 * throughput of 1-at-a-time here; for one awaiting an upstream, the thread serves others
 * meanwhile); CPU-heavy ones should not queue behind each other inside one thread, where another
 * thread that frees up cannot take them. So a thread takes up to `max` requests while their CPU
 * time (an exponential average) stays under `shortMs`, and 1 once it passes `longMs`. Requests
 * also go out in batches while their run time, waiting included, stays under `shortMs`.
 */
export const AUTO_CONCURRENCY = { max: 16, shortMs: 2, longMs: 5, weight: 0.2 } as const;

/**
 * Below this average CPU time a request costs less than waking a thread for it: new work goes to
 * the busiest thread that has room, which is awake anyway. Above it, to the least busy, so that
 * CPU-bound requests use every thread.
 */
export const PACK_BELOW_MS = 0.2;

/**
 * How long a timed-out handler gets, after its ctx.signal aborted, to stop on its own before
 * its thread is terminated. The client already has its 504 by then.
 */
export const KILL_GRACE_MS = 200;

/**
 * Threads dying outside any request this often mean the module kills every fresh thread (a timer
 * that throws at load, an 'error' event nobody listens to): piscina would respawn them in a busy
 * loop. The pool stops its threads instead and starts new ones after a back-off (1 s, doubling up
 * to 30 s); requests meanwhile get 503 with Retry-After.
 */
export const CRASH_LOOP = { crashes: 3, windowMs: 10_000, firstBackoffMs: 1000, maxBackoffMs: 30_000 } as const;

/**
 * How long a request may wait for the batch in flight to come back before it goes out anyway:
 * a short function's batch is normally back well within this, and an occasional slow request in
 * it must not hold the next ones back.
 */
export const BATCH_WAIT_MS = 2;

/** A thread whose event loop ran code this share of the time after a timeout is stuck in it. */
export const BLOCKED_UTILIZATION = 0.9;

/** How many requests one thread takes at once right now, and whether new work is packed onto busy threads. */
export interface PerThread {
  readonly limit: number;
  readonly pack: boolean;
}
