import type { TaskReply } from '../pool/protocol.js';

const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';
const BINARY = 'application/octet-stream';

/** Headers the gateway owns: it frames the body itself and manages the connection. */
const GATEWAY_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive']);

const EXPECTED = 'expected a Response, string, Uint8Array, ArrayBuffer, JSON-serializable value, or null';

/** Normalizes a handler's return value (see HandlerResult in types.ts). Throws TypeError on garbage. */
export async function toReply(result: unknown, start: number): Promise<TaskReply> {
  if (result instanceof Response) {
    if (result.type === 'error' || result.status < 200) {
      throw new TypeError(`handler returned a Response with status ${result.status}; ${EXPECTED}`);
    }
    const headers = flattenHeaders(result.headers);
    const body = result.body === null ? null : await result.arrayBuffer();
    return { status: result.status, headers, body, runMs: elapsed(start) };
  }
  if (typeof result === 'string') {
    return { status: 200, headers: ['content-type', TEXT], body: result, runMs: elapsed(start) };
  }
  if (result === null || result === undefined) {
    return { status: 204, headers: [], body: null, runMs: elapsed(start) };
  }
  if (result instanceof ArrayBuffer || ArrayBuffer.isView(result)) {
    // Copy: the handler may keep using (or return again) the buffer it gave us, and transferring
    // it would detach it under its feet. The copy is what crosses threads, by transfer.
    const bytes = result instanceof ArrayBuffer ? new Uint8Array(result) : new Uint8Array(result.buffer, result.byteOffset, result.byteLength);
    const body = new ArrayBuffer(bytes.byteLength);
    new Uint8Array(body).set(bytes);
    return { status: 200, headers: ['content-type', BINARY], body, runMs: elapsed(start) };
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
  if (json === undefined) {
    throw new TypeError(`handler returned a value that serializes to nothing; ${EXPECTED}`);
  }
  return { status: 200, headers: ['content-type', JSON_TYPE], body: json, runMs: elapsed(start) };
}

function flattenHeaders(headers: Headers): string[] {
  const flat: string[] = [];
  // Iteration yields each set-cookie separately and everything else combined, lower-cased.
  for (const [name, value] of headers) {
    if (!GATEWAY_HEADERS.has(name)) flat.push(name, value);
  }
  return flat;
}

function elapsed(start: number): number {
  return Math.round((performance.now() - start) * 100) / 100;
}
