/**
 * The only contract between the gateway thread and a function's worker threads. Kept flat and
 * small: every field is structured-cloned per request, except `body`, which is transferred.
 * Imported by the main-thread pool and by the worker-side task handler (bundled into each
 * function), and by nothing else.
 */

/** Main -> worker: one request. */
export interface TaskEnvelope {
  /** Unique per runtime; `PROBE_ID` marks the warm-up probe. */
  readonly id: number;
  readonly method: string;
  /** Absolute URL as the client addressed it. */
  readonly url: string;
  /** Flat `[name, value, name, value, ...]` exactly as received (repeated headers kept). */
  readonly headers: readonly string[];
  /** A fresh ArrayBuffer, transferred (never cloned); null for GET/HEAD and empty bodies. */
  readonly body: ArrayBuffer | null;
  /** Route parameters, already percent-decoded; null when the route has none. */
  readonly params: Readonly<Record<string, string>> | null;
  /** Epoch milliseconds at which `ctx.signal` aborts with a TimeoutError. */
  readonly deadline: number;
}

/** The warm-up task: loads the module on one thread and runs no handler. */
export const PROBE_ID = 0;

/** Worker -> main: a response. `body` is transferred when it is an ArrayBuffer. */
export interface TaskReply {
  readonly status: number;
  /** Flat `[name, value, ...]`, lower-case names, without hop-by-hop or length headers. */
  readonly headers: string[];
  readonly body: ArrayBuffer | string | null;
  /** Milliseconds the handler (and response normalization) took on the worker. */
  readonly runMs: number;
}

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
  return (outcome as TaskFailure).failure !== undefined;
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
