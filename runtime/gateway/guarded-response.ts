import { STATUS_CODES, ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { FngateError } from '../common/errors.js';

/** Set by the gateway on a response that carries a function's reply: the function's name. */
export const kFunction = Symbol('fngate.function');

/**
 * Bodies that only their response uses (a function's reply, moved from its thread): the send
 * watch may free one as soon as the connection it was sent on is closed.
 */
const ownBodies = new WeakSet<ArrayBuffer>();

export function ownBody(body: ArrayBuffer): void {
  ownBodies.add(body);
}

/** A response fngate could not write as it was, and what was sent instead. */
export interface WriteFailure {
  /** The function whose reply it was, if it was one. */
  readonly fn: string | undefined;
  readonly error: Error;
  /** What the client got: the FNGATE_* answer, or null when its headers were out already (the connection was closed). */
  readonly sent: FngateError | null;
}

// The base methods, each with several overloads; each takes at most three arguments, and treats
// one given as undefined as one left out. (Three fixed parameters: no array per call on the hot path.)
const base = ServerResponse.prototype as unknown as Record<'writeHead' | 'write' | 'end', (a?: unknown, b?: unknown, c?: unknown) => unknown>;

/**
 * The ServerResponse class of fngate's HTTP server. Node refuses to write some responses a
 * function can build (a `trailer` header on a body sent with Content-Length, ...), and throws
 * from writeHead(); @hono/node-server then answers a plain-text 500 with the error and an
 * unprefixed stack, and destroys the socket, losing any request pipelined behind it. Here such a
 * failure becomes a JSON FNGATE_* answer on a connection that stays usable; once the head is
 * out, the connection is closed cleanly instead (nothing else can frame the rest). Either way
 * `onFailure` hears of it.
 *
 * It also tells `onUnsent` of a response that could not hand all its data to the kernel (a large
 * body, a client that reads slowly or not at all): see send-watch.ts.
 */
export function guardedResponseClass(hooks: {
  onFailure: (failure: WriteFailure) => void;
  onUnsent: (socket: Socket, fn: string | undefined, request: string, body: ArrayBuffer | undefined) => void;
}): typeof ServerResponse<IncomingMessage> {
  const { onFailure, onUnsent } = hooks;
  return class GuardedResponse extends ServerResponse {
    [kFunction]: string | undefined = undefined;
    /** The response was replaced by an error answer: whatever the original writer still sends is dropped. */
    #replaced = false;

    override writeHead(a?: unknown, b?: unknown, c?: unknown): this {
      if (this.#replaced) return this;
      try {
        return base.writeHead.call(this, a, b, c) as this;
      } catch (error) {
        this.#fail(error as Error);
        return this;
      }
    }

    override write(a?: unknown, b?: unknown, c?: unknown): boolean {
      // false: a writer waiting for 'drain' stops; the response's 'close' then cancels its stream.
      if (this.#replaced) return false;
      try {
        const flushed = base.write.call(this, a, b, c) as boolean;
        if (!flushed) this.#checkUnsent();
        return flushed;
      } catch (error) {
        this.#fail(error as Error);
        return false;
      }
    }

    override end(a?: unknown, b?: unknown, c?: unknown): this {
      if (this.#replaced) return this;
      try {
        base.end.call(this, a, b, c);
        this.#checkUnsent(a instanceof Uint8Array && ownBodies.has(a.buffer as ArrayBuffer) ? (a.buffer as ArrayBuffer) : undefined);
        return this;
      } catch (error) {
        this.#fail(error as Error);
        return this;
      }
    }

    override flushHeaders(): void {
      if (!this.#replaced) super.flushHeaders();
    }

    #checkUnsent(body?: ArrayBuffer): void {
      const socket = this.socket;
      if (socket !== null && socket.writableLength > 0) onUnsent(socket, this[kFunction], `${this.req.method} ${this.req.url}`, body);
    }

    #fail(error: Error): void {
      const fn = this[kFunction];
      if (this.headersSent) {
        this.#replaced = true;
        this.destroy(error);
        onFailure({ fn, error, sent: null });
        return;
      }
      const code = (error as NodeJS.ErrnoException).code;
      const reason = `${error.message}${code === undefined ? '' : ` (${code})`}`;
      const failure =
        fn === undefined
          ? new FngateError('FNGATE_INTERNAL_ERROR', `fngate could not write the response: ${reason}`, { cause: error })
          : new FngateError('FNGATE_FUNCTION_ERROR', `the response of ${fn} could not be sent as it was: ${reason}`, { fn, cause: error });
      // The failed writeHead() may have stored the refused headers (when some were set before it)
      // and decided on framing from them; start over from nothing but the connection's fate.
      for (const name of this.getHeaderNames()) if (name !== 'connection') this.removeHeader(name);
      const internals = this as unknown as { _contentLength: number | null; _hasBody: boolean };
      internals._contentLength = null;
      // A 204/304 head turned the body off; a HEAD request never has one.
      internals._hasBody = this.req.method !== 'HEAD';
      const body = JSON.stringify(failure.toBody(false));
      const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)) };
      if (fn !== undefined) headers['x-fngate-function'] = fn;
      super.writeHead(failure.status, STATUS_CODES[failure.status]!, headers);
      super.end(body);
      this.#replaced = true;
      onFailure({ fn, error, sent: failure });
    }
  };
}
