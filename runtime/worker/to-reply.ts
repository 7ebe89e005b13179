import type { TaskReply } from '../pool/protocol.js';

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
  if (typeof result === 'string') return [200, ['content-type', TEXT], result, elapsed(start), 0];
  if (result instanceof Response) return responseReply(result, start);
  if (result === null || result === undefined) return [204, [], null, elapsed(start), 0];
  if (result instanceof ArrayBuffer || ArrayBuffer.isView(result)) {
    // Copy: the handler may keep using (or return again) the buffer it gave us, and transferring
    // it would detach it under its feet. The copy is what crosses threads, by transfer.
    const bytes = result instanceof ArrayBuffer ? new Uint8Array(result) : new Uint8Array(result.buffer, result.byteOffset, result.byteLength);
    const body = new ArrayBuffer(bytes.byteLength);
    new Uint8Array(body).set(bytes);
    return [200, ['content-type', BINARY], body, elapsed(start), 0];
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
  return [200, ['content-type', JSON_TYPE], json, elapsed(start), 0];
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
  const body = response.body === null ? null : await response.arrayBuffer();
  return [response.status, headers, body, elapsed(start), 0];
}

function elapsed(start: number): number {
  return Math.round((performance.now() - start) * 100) / 100;
}
