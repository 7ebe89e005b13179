import type { TaskEnvelope } from './envelope.js';
import type { TaskReply } from './reply.js';

/**
 * A started request, as the gateway sees it: the reply to come, the body when the function
 * streams it, and a way to say the client left. The pool implements it; the gateway consumes it.
 */
export interface Invocation {
  /** Resolves with the reply; rejects with an FngateError (timeout, crash, queue full, ...). */
  readonly reply: Promise<TaskReply>;
  /** The body, when the function streams it (the reply's body is null then); set before `reply` resolves. */
  readonly body: ReadableStream<Uint8Array> | null;
  /** The client went away: a waiting request never runs; a running one sees ctx.signal abort. */
  cancel(): void;
}

/**
 * Where the gateway writes a response: the pool cuts it (the client sees a truncated response)
 * when a streamed body fails midway, since its status and headers are already out.
 */
export interface ResponseSink {
  destroy(): void;
}

/** Starts a request on function `fn`; throws an FngateError when it cannot (e.g. unavailable). */
export type Invoke = (fn: string, envelope: TaskEnvelope, sink: ResponseSink) => Invocation;
