import type { MessagePort } from 'node:worker_threads';

/**
 * Worker -> main thread: a response, also a flat tuple. `body` is transferred when it is an
 * ArrayBuffer. The worker sends queueMs as 0; the pool fills in how long the request waited.
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
   * V8 heap in use on the thread (bytes) when it answered, as last sampled there (at most every
   * HEAP_SAMPLE_MS): what `memoryLimit` bounds, without ArrayBuffer contents. 0 when not measured.
   */
  heapBytes: number,
  /**
   * Present when the request goes on after its reply: a streamed body (`streamed`), or work
   * passed to ctx.waitUntil(). The request keeps its thread slot until the port says `done`.
   * Transferred with the reply.
   */
  continuation?: MessagePort,
  /** The body comes as chunks on `continuation` (body is null then). */
  streamed?: boolean,
];

export const Reply = { status: 0, headers: 1, body: 2, runMs: 3, queueMs: 4, cpuMs: 5, heapBytes: 6, continuation: 7, streamed: 8 } as const;

/** How often a thread reads its heap statistics at most (about 0.4 µs each): often enough to see the peaks of a load test. */
export const HEAP_SAMPLE_MS = 10;

/**
 * Worker -> main on a reply's continuation port: body chunks (transferred), the end of the body
 * or its failure, and `done` when nothing of the request runs on the thread any more (last).
 */
export type ContinuationMessage =
  | { readonly t: 'chunk'; readonly data: ArrayBuffer }
  | { readonly t: 'end' }
  | { readonly t: 'error'; readonly message: string }
  | { readonly t: 'done' };

/** Main -> worker on a continuation port: send the next chunk (backpressure), or stop (client gone). */
export type ContinuationControl = { readonly t: 'pull' } | { readonly t: 'cancel' };
