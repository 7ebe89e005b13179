import type { Socket } from 'node:net';
import { MessageChannel } from 'node:worker_threads';

/** How often connections with unsent response data are looked at. */
const CHECK_MS = 1000;

/**
 * A connection counts toward `bufferLimit` once its client has taken nothing for this long: a
 * client that reads (even slowly) or merely hiccups is never closed for the limit.
 */
export const STALLED_MS = 5000;

export interface SendWatchOptions {
  /** Milliseconds a connection may hold unsent data without its client taking any; read at every check. */
  readonly timeout: () => number;
  /** Bytes of unsent response data all stalled connections together may hold; read at every check. */
  readonly bufferLimit: () => number;
  /** A connection was closed: its client took nothing for `timeout`, or stalled ones held more than `bufferLimit`. */
  readonly onClose: (closed: ClosedConnection) => void;
}

export interface ClosedConnection {
  readonly reason: 'timeout' | 'limit';
  /** The function whose response it was, if one. */
  readonly fn: string | undefined;
  /** `METHOD /path` of the response being sent. */
  readonly request: string;
  /** Bytes of response data the connection held (a write in progress counts whole). */
  readonly held: number;
  /** Milliseconds since the client last took any. */
  readonly stalledMs: number;
}

interface Watched {
  fn: string | undefined;
  request: string;
  /** The body being sent, when only this response uses it (see watch()). */
  body: ArrayBuffer | undefined;
  /** socket.writableLength at the last check: bytes written to the socket and not yet all taken (a write in progress counts whole). */
  held: number;
  /** Bytes libuv still has to hand to the kernel: shrinks as a client reads a large write. */
  queued: number;
  progressAt: number;
}

/**
 * Closes connections whose clients stopped reading their response. A response body the gateway
 * wrote stays in memory until the client has taken it (a 200 MB result: 200 MB), and Node has no
 * timeout for that: five clients that asked for one each and never read held 800 MB for as long
 * as they liked. Only connections with unsent data are watched (a response registers its socket
 * when it could not hand everything to the kernel), once a second: destroying one cancels its
 * writes, which frees the body once nothing else refers to it.
 */
export class SendWatch {
  readonly #options: SendWatchOptions;
  readonly #watched = new Map<Socket, Watched>();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: SendWatchOptions) {
    this.#options = options;
  }

  /**
   * `socket` has response data it could not send yet. `body`, when given, is a buffer nothing but
   * this response uses: if the connection is closed, its memory is released at once rather than
   * at the next full garbage collection, which an idle gateway may not run for minutes.
   */
  watch(socket: Socket, fn: string | undefined, request: string, body?: ArrayBuffer): void {
    const known = this.#watched.get(socket);
    if (known !== undefined) {
      // The next response on a keep-alive connection (the previous one was all sent).
      known.fn = fn;
      known.request = request;
      known.body = body;
      return;
    }
    this.#watched.set(socket, { fn, request, body, held: socket.writableLength, queued: queuedBytes(socket), progressAt: performance.now() });
    this.#timer ??= setInterval(() => this.check(), CHECK_MS).unref();
  }

  /** Connections watched now (tests, status). */
  get size(): number {
    return this.#watched.size;
  }

  check(now = performance.now()): void {
    const timeout = this.#options.timeout();
    const stalled: [Socket, Watched][] = [];
    let stalledBytes = 0;
    for (const [socket, state] of this.#watched) {
      const held = socket.writableLength;
      const queued = queuedBytes(socket);
      if (socket.destroyed || (held === 0 && queued === 0)) {
        this.#watched.delete(socket);
        continue;
      }
      if (held < state.held || queued < state.queued) state.progressAt = now;
      state.held = held;
      state.queued = queued;
      const stalledMs = now - state.progressAt;
      if (stalledMs >= timeout) this.#close(socket, state, 'timeout', now);
      else if (stalledMs >= STALLED_MS) {
        stalled.push([socket, state]);
        stalledBytes += held;
      }
    }
    // Over the limit: the clients that stopped reading longest ago go first.
    const limit = this.#options.bufferLimit();
    stalled.sort(([, a], [, b]) => a.progressAt - b.progressAt);
    for (const [socket, state] of stalled) {
      if (stalledBytes <= limit) break;
      stalledBytes -= state.held;
      this.#close(socket, state, 'limit', now);
    }
    if (this.#watched.size === 0) this.stop();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #close(socket: Socket, state: Watched, reason: ClosedConnection['reason'], now: number): void {
    this.#watched.delete(socket);
    const body = state.body;
    // Only once closed: until then libuv may still be writing from it.
    if (body !== undefined) socket.once('close', () => release(body));
    socket.destroy();
    this.#options.onClose({ reason, fn: state.fn, request: state.request, held: state.held, stalledMs: now - state.progressAt });
  }
}

/**
 * Frees a buffer's memory now: moved into a message that is never delivered, its contents go
 * when the port closes. (Dropping the last reference frees them only at the next full garbage
 * collection.) The buffer is left detached, empty to anyone who still holds it.
 */
function release(body: ArrayBuffer): void {
  if (body.byteLength === 0) return; // detached already
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(null, [body]);
  port1.close();
  port2.close();
}

/** What libuv still has to write: the part of a write in progress the kernel has not taken yet. */
function queuedBytes(socket: Socket): number {
  return (socket as unknown as { _handle?: { writeQueueSize?: number } | null })._handle?.writeQueueSize ?? 0;
}
