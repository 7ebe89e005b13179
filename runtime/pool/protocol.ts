/**
 * The only contract between the gateway thread and a function's worker threads. Kept flat and
 * small: every field is structured-cloned per request, except `body`, which is transferred.
 * Imported by the main-thread pool and by the worker-side task handler (bundled into each
 * function), and by nothing else.
 */

/**
 * Main -> worker: one request, as a flat tuple (cloning an array costs less than an object with
 * named keys, on both threads, per request). Read it with the indices in `Envelope`.
 */
export type TaskEnvelope = [
  /** Unique per runtime; `PROBE_ID` marks the warm-up probe. */
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
];

export const Envelope = { id: 0, method: 1, url: 2, headers: 3, body: 4, params: 5, deadline: 6 } as const;

/** The warm-up task: loads the module on one thread and runs no handler. */
export const PROBE_ID = 0;

/**
 * Worker -> main: a response, also a flat tuple. `body` is transferred when it is an ArrayBuffer.
 * The worker sends queueMs as 0; the pool fills in how long the request waited for a thread.
 */
export type TaskReply = [
  status: number,
  /** Flat `[name, value, ...]`, lower-case names, without hop-by-hop or length headers. */
  headers: string[],
  body: ArrayBuffer | string | null,
  /** Milliseconds the handler (and response normalization) took on the worker. */
  runMs: number,
  queueMs: number,
  /**
   * The thread's event-loop busy time since its previous answer: what this request cost in CPU
   * (exact when requests run one at a time, an average when they interleave). Unlike runMs it
   * does not count waiting, so a handler awaiting a slow upstream is not taken for a heavy one.
   */
  cpuMs: number,
];

export const Reply = { status: 0, headers: 1, body: 2, runMs: 3, queueMs: 4, cpuMs: 5 } as const;

/**
 * Worker -> main: the handler threw or returned garbage (`function`), the module failed to load
 * (`load`), or the task reached a thread after its deadline and was not run (`expired`).
 */
export interface TaskFailure {
  readonly failure: 'function' | 'load' | 'expired';
  readonly name: string;
  readonly message: string;
  /** Source-mapped stack (workers run with --enable-source-maps). */
  readonly stack: string | undefined;
  readonly runMs: number;
}

export type TaskOutcome = TaskReply | TaskFailure;

export function isTaskFailure(outcome: TaskOutcome): outcome is TaskFailure {
  return !Array.isArray(outcome);
}

/** `workerData` every thread of a function version receives. */
export interface FunctionWorkerData {
  /** file:// URL of this version's bundle. */
  readonly bundle: string;
  readonly name: string;
  /** The env declared in config (process.env additionally holds NODE_ENV). */
  readonly env: Readonly<Record<string, string>>;
  /** BroadcastChannel on which the main thread asks a thread to abort one request's signal. */
  readonly controlChannel: string;
}

/** Main -> workers on the control channel. Only the thread running `id` reacts. */
export interface AbortMessage {
  readonly abort: number;
  readonly reason: 'timeout' | 'disconnect';
}
