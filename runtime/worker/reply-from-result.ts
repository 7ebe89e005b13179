import type { TaskReply } from '../protocol/reply.js';
import type { Continuation } from './continuation.js';
import { isRequestBuffer } from './envelope-request.js';
import { takeSource, type ResponseSource } from './buffered-response.js';
import { webApisLoaded } from './web-globals.js';

const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';
const BINARY = 'application/octet-stream';

/** Headers the gateway owns: it frames the body itself and manages the connection. */
const GATEWAY_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive']);

/** What Node's http module refuses in a header value (its checkInvalidHeaderChar). */
const INVALID_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

const EXPECTED = 'expected a Response, string, Uint8Array, ArrayBuffer, JSON-serializable value, or null';

/**
 * Longer text bodies are encoded to UTF-8 here and the bytes transferred: otherwise the gateway
 * thread copies the string out of the message and encodes it while writing, stalling every route
 * (a 300 MB string: about 3 s). Shorter ones go as strings, which costs the gateway less than a
 * transfer does. Measured on the gateway thread, receiving a body from a worker and writing it
 * to a TCP socket (string vs transferred bytes, µs per reply): 1 KiB 9 vs 13-15, 4-8 KiB 14-21
 * vs 16-26, 16 KiB 25-30 vs 47-54, 32 KiB 57-63 vs 56-62, 64 KiB 114 vs 68-72, 128 KiB 426-472
 * vs 99; encoding costs the worker about 8 µs per reply at small sizes.
 */
const STRING_BODY_MAX = 32 * 1024;
const encoder = new TextEncoder();

/**
 * Normalizes a handler's return value (see HandlerResult in types.ts); throws TypeError on
 * garbage. A Response with a stream body, a ReadableStream or an async iterable (a generator)
 * is streamed: see streamedReply.
 */
export function replyFromResult(result: unknown, start: number, continuation: () => Continuation): TaskReply | Promise<TaskReply> {
  if (typeof result === 'string') return [200, ['content-type', TEXT], textBody(result), elapsed(start), 0, 0, 0];
  // Before the web APIs load (see web-globals.ts) no Response or ReadableStream can exist, and
  // naming the globals would load them for nothing.
  if (webApisLoaded() && result instanceof Response) return responseReply(result, start, continuation);
  if (webApisLoaded() && result instanceof ReadableStream) return streamedReply(200, ['content-type', BINARY], result, start, continuation);
  if (isAsyncIterable(result)) return streamedReply(200, ['content-type', TEXT], result, start, continuation);
  if (result === null || result === undefined) return [204, [], null, elapsed(start), 0, 0, 0];
  if (result instanceof ArrayBuffer || ArrayBuffer.isView(result)) {
    return [200, ['content-type', BINARY], ownedBytes(result), elapsed(start), 0, 0, 0];
  }
  if (result instanceof Blob) {
    const type = result.type || BINARY;
    return result.arrayBuffer().then((bytes) => [200, ['content-type', type], bytes, elapsed(start), 0, 0, 0]);
  }
  if (typeof result === 'function' || typeof result === 'symbol' || typeof result === 'bigint') {
    throw new TypeError(`handler returned a ${typeof result}; ${EXPECTED}`);
  }
  if (result instanceof Map || result instanceof Set) {
    // JSON.stringify would quietly send {}.
    const kind = result instanceof Map ? 'Map (return Object.fromEntries(map))' : 'Set (return [...set])';
    throw new TypeError(`handler returned a ${kind}, which has no JSON form`);
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(result);
  } catch (error) {
    throw new TypeError(`handler returned a value that cannot be serialized to JSON: ${(error as Error).message}`);
  }
  if (json === undefined) throw new TypeError(`handler returned a value that serializes to nothing; ${EXPECTED}`);
  return [200, ['content-type', JSON_TYPE], textBody(json), elapsed(start), 0, 0, 0];
}

function responseReply(response: Response, start: number, continuation: () => Continuation): TaskReply {
  if (response.type === 'error' || response.status < 200) {
    throw new TypeError(`handler returned a Response with status ${response.status}; ${EXPECTED}`);
  }
  const headers: string[] = [];
  // Iteration yields each set-cookie separately and everything else combined, lower-cased.
  for (const [name, value] of response.headers) {
    if (GATEWAY_HEADERS.has(name)) continue;
    // Headers accepts control characters that Node's HTTP server refuses to write.
    if (INVALID_HEADER_VALUE.test(value)) throw new TypeError(`handler returned a Response whose header "${name}" has an invalid character in its value`);
    headers.push(name, value);
  }
  const source = takeSource(response);
  if (source === undefined && response.body !== null) {
    // A body that is produced over time (a stream, a proxied fetch()) is sent as it comes.
    return streamedReply(response.status, headers, response.body, start, continuation);
  }
  const body = source === undefined ? null : typeof source === 'string' ? textBody(source) : ownedBytes(source);
  return [response.status, headers, body, elapsed(start), 0, 0, 0];
}

/**
 * A body sent chunk by chunk as it is produced: the reply (status and headers) goes at once, the
 * chunks follow on the request's Continuation port as the gateway pulls them.
 */
function streamedReply(status: number, headers: string[], body: AsyncIterable<unknown>, start: number, continuation: () => Continuation): TaskReply {
  const follow = continuation();
  follow.stream(body);
  return [status, headers, null, elapsed(start), 0, 0, 0, follow.remote, true];
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

/**
 * Bytes the handler gave us, as an ArrayBuffer we may transfer. The request's own body buffer
 * (fngate created it) moves as it is; any other is copied, since the handler may keep using it
 * and transferring it would detach it under its feet.
 */
function ownedBytes(source: Exclude<ResponseSource, string>): ArrayBuffer {
  const whole = source instanceof ArrayBuffer ? source : source.byteOffset === 0 && source.byteLength === source.buffer.byteLength ? source.buffer : undefined;
  if (whole !== undefined && isRequestBuffer(whole)) return whole as ArrayBuffer;
  const bytes = source instanceof ArrayBuffer ? new Uint8Array(source) : new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  const copy = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(copy).set(bytes);
  return copy;
}

/** A text body as the gateway should get it: the string, or its UTF-8 bytes (see STRING_BODY_MAX). */
function textBody(text: string): string | ArrayBuffer {
  // TextEncoder allocates an exact-size buffer of its own: safe to transfer (and faster than Buffer.from).
  return text.length <= STRING_BODY_MAX ? text : (encoder.encode(text).buffer as ArrayBuffer);
}

function elapsed(start: number): number {
  return Math.round((performance.now() - start) * 100) / 100;
}
