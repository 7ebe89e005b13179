/**
 * The only contract between the gateway thread and a function's worker threads. Kept flat and
 * small: every field is structured-cloned per request, except `body`, which is transferred.
 * Imported by the main-thread pool and by the worker-side task handler (bundled into each
 * function), and by nothing else.
 */
import type { MessagePort } from 'node:worker_threads';

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
 * A keep-busy task has the negated id of a request that goes on after its reply (a streamed body,
 * waitUntil work). It runs on that request's thread and ends when the request's follow-up does,
 * so piscina counts the thread as busy meanwhile and never stops it as idle.
 */
export function keepBusyEnvelope(requestId: number): TaskEnvelope {
  return [-requestId, 'HOLD', '', [], null, null, Number.MAX_SAFE_INTEGER];
}

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
  /**
   * Present when the request goes on after its reply: a streamed body (`streamed`), or work
   * passed to ctx.waitUntil(). The request keeps its thread slot until the port says `done`.
   * Transferred with the reply.
   */
  continuation?: MessagePort,
  /** The body comes as chunks on `followUp` (body is null then). */
  streamed?: boolean,
];

export const Reply = { status: 0, headers: 1, body: 2, runMs: 3, queueMs: 4, cpuMs: 5, continuation: 6, streamed: 7 } as const;

/**
 * Worker -> main on a reply's followUp port: body chunks (transferred), the end of the body or
 * its failure, and `done` when nothing of the request runs on the thread any more (last).
 */
export type ContinuationMessage =
  | { readonly t: 'chunk'; readonly data: ArrayBuffer }
  | { readonly t: 'end' }
  | { readonly t: 'error'; readonly message: string }
  | { readonly t: 'done' };

/** Main -> worker on a followUp port: send the next chunk (backpressure), or stop (client gone). */
export type ContinuationControl = { readonly t: 'pull' } | { readonly t: 'cancel' };

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
  /**
   * file:// URL of this version's bundle; null for a standby pool, whose threads start before the
   * bundle is built and ask for it on the control channel ({@link BundleRequest}).
   */
  readonly bundle: string | null;
  readonly name: string;
  /** The env declared in config (process.env additionally holds NODE_ENV). */
  readonly env: Readonly<Record<string, string>>;
  /** BroadcastChannel on which the main thread asks a thread to abort one request's signal. */
  readonly controlChannel: string;
  /** How the module is called (config `type`). */
  readonly type: 'auto' | 'handler' | 'fetch' | 'lambda';
  /** The function's shared memory (config `sharedMemory`), the same buffer on every thread; null without. */
  readonly shared: SharedArrayBuffer | null;
  /**
   * `fngate invoke`: the function's console output goes to stderr (stdout carries the response
   * body), and a last line without a newline is written when the task ends.
   */
  readonly invoke: boolean;
}

/** Worker -> main on the control channel: a standby thread waits for its bundle. */
export interface BundleRequest {
  readonly wantsBundle: true;
}

/** Main -> workers on the control channel: the bundle of a standby pool, once it is built. */
export interface BundleMessage {
  readonly bundle: string;
}

/** Main -> workers on the control channel. Only the thread running `id` reacts. */
export interface AbortMessage {
  readonly abort: number;
  readonly reason: 'timeout' | 'disconnect';
}
