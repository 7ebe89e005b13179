import type { PerThread } from './settings.js';

/** Where a task goes (the balancer fills in the thread), and how many requests it carries. */
export interface Placement {
  threadId: number;
  readonly size: number;
  /** Must run on `threadId` (a keep-busy task); counts no load. */
  readonly pinned?: boolean;
}

/** What the balancer needs to know of a thread. */
export interface BalancedThread {
  readonly id: number;
  readonly terminating: boolean;
  readonly destroyed: boolean;
}

export interface BalancerState {
  /** Requests on each thread (a batch counts each of its requests). */
  readonly load: Map<number, number>;
  /** Threads that take no new work (their request timed out): never chosen. */
  readonly stopped: ReadonlyMap<number, unknown>;
  readonly perThread: PerThread;
}

/**
 * Picks the thread for a task, or null when none has room (piscina then keeps the task until
 * one frees up). A thread has room for the whole task when its requests plus the task's stay
 * within the per-thread limit; threads being stopped or terminated are skipped. Among those,
 * tiny requests go to the busiest (it is awake anyway: `pack`), others to the least busy. The
 * choice is recorded in `placement` and counted in `load`, so a timeout can stop exactly that
 * thread. A keep-busy task goes to its request's thread, or, if that one is gone, anywhere alive
 * (it ends at once there).
 */
export function pickThread<T extends BalancedThread>(threads: readonly T[], placement: Placement | null, state: BalancerState): T | null {
  if (placement?.pinned) {
    return threads.find((thread) => thread.id === placement.threadId) ?? threads.find((thread) => !thread.terminating && !thread.destroyed) ?? null;
  }
  const size = placement?.size ?? 1;
  const { load, stopped, perThread } = state;
  const pack = perThread.pack;
  let candidate: T | null = null;
  let chosen = pack ? -1 : Infinity;
  for (const thread of threads) {
    const current = load.get(thread.id) ?? 0;
    const better = pack ? current > chosen : current < chosen;
    if (better && current + size <= perThread.limit && !stopped.has(thread.id) && !thread.terminating && !thread.destroyed) {
      candidate = thread;
      chosen = current;
    }
  }
  if (candidate !== null && placement != null) {
    placement.threadId = candidate.id;
    load.set(candidate.id, chosen + size);
  }
  return candidate;
}
