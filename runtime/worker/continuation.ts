import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { ContinuationControl, ContinuationMessage } from '../protocol/reply.js';
import { webApisLoaded } from './web-globals.js';

const encoder = new TextEncoder();

/**
 * The part of a request that goes on after its reply left the thread: a streamed body, and the
 * promises given to ctx.waitUntil(). Its port travels with the reply; the gateway pulls body
 * chunks through it (one message per chunk, the bytes transferred), and `done` tells it when
 * nothing of the request runs here any more, so the thread slot can be given back.
 */
export class Continuation {
  /** Goes to the gateway with the reply. */
  readonly remote: MessagePort;
  readonly #port: MessagePort;
  /** Resolves when nothing of the request runs here any more. */
  readonly finished: Promise<void>;
  #finish!: () => void;
  /** The reply itself, each waitUntil promise and the body stream. */
  #openParts = 1;
  #credits = 0;
  #wake: (() => void) | undefined;
  #isCancelled = false;
  /**
   * Ends the read in progress when the body is cancelled. Made per read and dropped after it: one
   * promise raced by every read would keep every chunk reachable until the stream ends.
   */
  #endRead: ((value: typeof CANCELLED) => void) | undefined;
  readonly #onCancel: () => void;

  /** `onCancel` runs once when the client goes away mid-stream (it aborts ctx.signal). */
  constructor(onCancel: () => void = () => {}) {
    this.finished = new Promise<void>((resolve) => (this.#finish = resolve));
    this.#onCancel = onCancel;
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    this.remote = port2;
    port1.on('message', (message: ContinuationControl) => {
      if (message.t === 'pull') this.#credits++;
      else if (!this.#isCancelled) {
        this.#onCancel();
        this.#stopBody();
      }
      this.#wake?.();
    });
  }

  /** The body is not wanted any more: the pump stops, a read in progress is left behind. */
  #stopBody(): void {
    this.#isCancelled = true;
    this.#endRead?.(CANCELLED);
  }

  /** ctx.waitUntil(promise). */
  track(promise: PromiseLike<unknown>): void {
    this.#openParts++;
    Promise.resolve(promise)
      .catch((error: unknown) => logFailure('a ctx.waitUntil() promise rejected', error))
      .finally(() => this.#release());
  }

  /** Sends the body chunk by chunk as the gateway asks for them; stops when the client is gone. */
  stream(body: AsyncIterable<unknown>): void {
    this.#openParts++;
    void this.#pump(body).finally(() => this.#release());
  }

  /** The request failed: no reply carries the port, so nobody will pull or wait. */
  abandon(): void {
    // Not a disconnect: waitUntil work goes on (unheld), its ctx.signal untouched.
    this.#stopBody();
    this.#wake?.();
    this.#port.close();
    this.remote.close();
    this.#finish();
  }

  /** The reply is on its way. */
  replied(): void {
    this.#release();
  }

  async #pump(body: AsyncIterable<unknown>): Promise<void> {
    const iterator = iterate(body);
    try {
      for (;;) {
        while (this.#credits === 0 && !this.#isCancelled) await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
        if (this.#isCancelled) return stop(iterator);
        this.#credits--;
        // The client may leave while the producer waits for its next chunk (an SSE source that
        // waits for an event): the request ends then, not when the producer next yields.
        const read = iterator.next();
        const next = await Promise.race([read, new Promise<typeof CANCELLED>((resolve) => (this.#endRead = resolve))]);
        this.#endRead = undefined;
        if (next === CANCELLED) {
          read.catch(() => {}); // settles (or not) after we left; nobody is listening
          return stop(iterator);
        }
        if (next.done) break;
        const data = chunkBytes(next.value);
        this.#post({ t: 'chunk', data }, [data]);
      }
      this.#post({ t: 'end' });
    } catch (error) {
      logFailure('the response stream failed', error);
      this.#post({ t: 'error', message: error instanceof Error ? error.message : String(error) });
    }
  }

  #post(message: ContinuationMessage, transfer?: ArrayBuffer[]): void {
    this.#port.postMessage(message, transfer);
  }

  #release(): void {
    if (--this.#openParts > 0) return;
    this.#post({ t: 'done' });
    this.#port.close();
    this.#finish();
  }
}

const CANCELLED = Symbol('cancelled');

/**
 * A ReadableStream is read through a reader: its cancel() reaches the stream's source at once,
 * even while a read is pending (the stream's own async iterator would wait for that read first).
 */
function iterate(body: AsyncIterable<unknown>): AsyncIterator<unknown> {
  if (!webApisLoaded() || !(body instanceof ReadableStream)) return body[Symbol.asyncIterator]();
  const reader = (body as ReadableStream<unknown>).getReader();
  return {
    next: () => reader.read() as Promise<IteratorResult<unknown>>,
    return: async () => {
      await reader.cancel();
      return { done: true, value: undefined };
    },
  };
}

/**
 * Runs a generator's finally blocks, or the stream's cancel(). Not awaited: a generator busy in
 * an await that never settles would hold the request forever; it runs its finally blocks when
 * that await settles (ctx.signal has aborted by then, so it can make that happen).
 */
function stop(iterator: AsyncIterator<unknown>): void {
  try {
    void iterator.return?.()?.catch((error: unknown) => logFailure('stopping the response stream failed', error));
  } catch (error) {
    logFailure('stopping the response stream failed', error);
  }
}

/** A chunk as bytes we own (the handler may keep its buffer): strings encoded, binary copied. */
function chunkBytes(chunk: unknown): ArrayBuffer {
  if (typeof chunk === 'string') return encoder.encode(chunk).buffer as ArrayBuffer;
  if (chunk instanceof ArrayBuffer) return chunk.slice(0);
  if (ArrayBuffer.isView(chunk)) {
    const copy = new Uint8Array(chunk.byteLength);
    copy.set(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    return copy.buffer;
  }
  throw new TypeError(`a streamed body must yield strings, Uint8Arrays or ArrayBuffers, got ${chunk === null ? 'null' : typeof chunk}`);
}

/** On the thread's stderr, which prefixes it with the function's name. */
function logFailure(what: string, error: unknown): void {
  console.error(`${what}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
}
