/**
 * Main thread -> worker: one request. Flat and small: every field is structured-cloned per
 * request, except `body`, which is transferred.
 */

/**
 * One request, as a flat tuple (cloning an array costs less than an object with named keys, on
 * both threads, per request). Read it with the indices in `Envelope`.
 */
export type TaskEnvelope = [
  /** Unique per runtime; `PROBE_ID` marks the warm-up probe, a negative id a keep-busy task. */
  id: number,
  method: string,
  /** Absolute URL as the client addressed it. */
  url: string,
  /** Flat `[name, value, name, value, ...]` exactly as received (repeated headers kept). */
  headers: readonly string[],
  /** A fresh ArrayBuffer, transferred (never cloned); null for GET/HEAD and empty bodies. */
  body: ArrayBuffer | null,
  /** Route parameters, already percent-decoded; null when the route has none. */
  params: Readonly<Record<string, string>> | null,
  /** Epoch milliseconds at which `ctx.signal` aborts with a TimeoutError (set by the pool). */
  deadline: number,
  /**
   * Present for a scheduled run: the function's `scheduled()` export (or Lambda handler) gets
   * this event; a module without one gets the request the other fields describe.
   */
  scheduled?: ScheduledTask,
];

export const Envelope = { id: 0, method: 1, url: 2, headers: 3, body: 4, params: 5, deadline: 6, scheduled: 7 } as const;

/** What a scheduled run is told: the schedule's cron expression and the time the run was due. */
export interface ScheduledTask {
  readonly cron: string;
  /** Epoch milliseconds the run was due (a trigger: when it was asked for). */
  readonly scheduledTime: number;
}

/**
 * What one piscina task carries: a request, or a batch of requests for one thread (answered by
 * an array of outcomes, in the same order).
 */
export type Task = TaskEnvelope | TaskEnvelope[];

/** The one place that tells a batch from a single request: an envelope starts with its numeric id. */
export function isBatch(task: Task): task is TaskEnvelope[] {
  return Array.isArray(task[0]);
}

/** The task for `envelopes`: the envelope itself when there is one, else a batch. */
export function taskOf(envelopes: readonly TaskEnvelope[]): Task {
  return envelopes.length === 1 ? envelopes[0]! : [...envelopes];
}

/** The warm-up task: loads the module on one thread and runs no handler. */
export const PROBE_ID = 0;

/**
 * A keep-busy task has the negated id of a request that goes on after its reply (a streamed
 * body, waitUntil work). It runs on that request's thread and ends when the request's
 * continuation does, so piscina counts the thread as busy meanwhile and never stops it as idle.
 */
export function keepBusyEnvelope(requestId: number): TaskEnvelope {
  return [-requestId, 'KEEP-BUSY', '', [], null, null, Number.MAX_SAFE_INTEGER];
}
