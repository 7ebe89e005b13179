import { FngateError } from '../common/errors.js';
import { ownBody } from './guarded-response.js';
import { Reply, type TaskReply } from '../protocol/reply.js';

/** Bodies from this size on may be freed early by the send watch; smaller ones cost nothing to wait for. */
const OWN_BODY_MIN = 1024 * 1024;

/**
 * Builds the HTTP response for a worker's reply. Headers go out as a plain object so that
 * @hono/node-server writes them with one writeHead() call (its fast path); repeated names such as
 * set-cookie become arrays, which writeHead() sends as separate header lines.
 */
export function replyResponse(reply: TaskReply, fn: string, requestId: number, stream: ReadableStream<Uint8Array> | null, head = false): Response {
  const headers: Record<string, string | string[]> = {};
  const flat = reply[Reply.headers];
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!;
    const value = flat[i + 1]!;
    const previous = headers[name];
    if (previous === undefined) headers[name] = value;
    else if (Array.isArray(previous)) previous.push(value);
    else headers[name] = [previous, value];
  }
  headers['x-fngate-function'] = fn;
  headers['x-request-id'] = String(requestId);
  const timing = `queue;dur=${reply[Reply.queueMs]}, run;dur=${reply[Reply.runMs]}`;
  const own = headers['server-timing'];
  headers['server-timing'] = own === undefined ? timing : `${String(own)}, ${timing}`;
  const raw = reply[Reply.body];
  if (stream !== null && head) {
    // Hono drops the body of a HEAD response unread: a stream nobody cancels would hold its
    // thread slot for good. Headers only, then (no length is known).
    void stream.cancel();
    return new Response(null, { status: reply[Reply.status], headers: headersOf(headers) });
  }
  if (stream !== null) {
    // Sent as it comes (chunked); a proxy must not buffer it either.
    headers['x-accel-buffering'] ??= 'no';
    return new Response(stream, { status: reply[Reply.status], headers: headers as unknown as NonNullable<ResponseInit['headers']> });
  }
  const body = raw === null ? null : typeof raw === 'string' ? raw : new Uint8Array(raw);
  // Moved here from the function's thread: nothing but this response refers to it.
  if (raw instanceof ArrayBuffer && raw.byteLength >= OWN_BODY_MIN) ownBody(raw);
  // Explicit, so HEAD (which Hono answers with the GET response minus its body) keeps it too.
  if (body !== null) headers['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
  // Hono answers HEAD with new Response(null, response), which reads response.headers: from a
  // plain object, repeated set-cookie values would be joined into one line there.
  const init = head ? headersOf(headers) : (headers as unknown as NonNullable<ResponseInit['headers']>);
  return new Response(body, { status: reply[Reply.status], headers: init });
}

function headersOf(record: Record<string, string | string[]>): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(record)) {
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  return headers;
}

/** `{ "error": { "code", "message", "function", "stack"? } }` with the code's status. */
export function errorResponse(error: FngateError, exposeStacks: boolean): Response {
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', ...error.headers };
  if (error.fn !== undefined) headers['x-fngate-function'] = error.fn;
  if (error.retryAfter !== undefined) headers['retry-after'] = String(error.retryAfter);
  return new Response(JSON.stringify(error.toBody(exposeStacks)), { status: error.status, headers });
}

/** Any failure as an FngateError; something unexpected is fngate's own bug and says so. */
export function asFngateError(error: unknown): FngateError {
  if (error instanceof FngateError) return error;
  const err = error instanceof Error ? error : new Error(String(error));
  return new FngateError('FNGATE_INTERNAL_ERROR', `fngate failed to handle the request: ${err.message}`, {
    detail: err.stack,
    cause: err,
  });
}
