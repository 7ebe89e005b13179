import type { TaskReply } from '../pool/protocol.js';
import { isRequestBuffer } from './lazy-request.js';
import { takeSource, type ResponseSource } from './light-response.js';

const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';
const BINARY = 'application/octet-stream';

/** Headers the gateway owns: it frames the body itself and manages the connection. */
const GATEWAY_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive']);

const EXPECTED = 'expected a Response, string, Uint8Array, ArrayBuffer, JSON-serializable value, or null';

/**
 * Normalizes a handler's return value (see HandlerResult in types.ts); throws TypeError on
 * garbage. Synchronous except for a Response, whose body has to be read.
 */
export function toReply(result: unknown, start: number): TaskReply | Promise<TaskReply> {
  if (typeof result === 'string') return [200, ['content-type', TEXT], result, elapsed(start), 0, 0];
  if (result instanceof Response) return responseReply(result, start);
  if (result === null || result === undefined) return [204, [], null, elapsed(start), 0, 0];
  if (result instanceof ArrayBuffer || ArrayBuffer.isView(result)) {
    return [200, ['content-type', BINARY], ownedBytes(result), elapsed(start), 0, 0];
  }
  if (typeof result === 'function' || typeof result === 'symbol' || typeof result === 'bigint') {
    throw new TypeError(`handler returned a ${typeof result}; ${EXPECTED}`);
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(result);
  } catch (error) {
    throw new TypeError(`handler returned a value that cannot be serialized to JSON: ${(error as Error).message}`);
  }
  if (json === undefined) throw new TypeError(`handler returned a value that serializes to nothing; ${EXPECTED}`);
  return [200, ['content-type', JSON_TYPE], json, elapsed(start), 0, 0];
}

async function responseReply(response: Response, start: number): Promise<TaskReply> {
  if (response.type === 'error' || response.status < 200) {
    throw new TypeError(`handler returned a Response with status ${response.status}; ${EXPECTED}`);
  }
  const headers: string[] = [];
  // Iteration yields each set-cookie separately and everything else combined, lower-cased.
  for (const [name, value] of response.headers) {
    if (!GATEWAY_HEADERS.has(name)) headers.push(name, value);
  }
  const source = takeSource(response);
  const body =
    source !== undefined ? (typeof source === 'string' ? source : ownedBytes(source))
    : response.body === null ? null
    : await readBody(response.body);
  return [response.status, headers, body, elapsed(start), 0, 0];
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

/**
 * The body's bytes as one ArrayBuffer that only we hold, so it can be transferred. A Response
 * built from a string, ArrayBuffer or view streams its own private copy as a single chunk: that
 * chunk is taken as it is (arrayBuffer() would copy it once more, 16 ms for 16 MiB here). A chunk
 * that does not cover its whole buffer (a slice, a pooled Buffer) and multi-chunk bodies are
 * copied once into a fresh buffer.
 */
async function readBody(stream: ReadableStream<Uint8Array>): Promise<ArrayBuffer> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    const chunk = next.value;
    if (!(chunk instanceof Uint8Array)) throw new TypeError('a Response body stream must yield Uint8Array chunks');
    chunks.push(chunk);
    length += chunk.byteLength;
  }
  const only = chunks[0];
  if (chunks.length === 1 && only!.byteOffset === 0 && only!.byteLength === only!.buffer.byteLength && only!.buffer instanceof ArrayBuffer) {
    return only!.buffer;
  }
  const body = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body.buffer;
}

function elapsed(start: number): number {
  return Math.round((performance.now() - start) * 100) / 100;
}
