import type { MessagePort } from 'node:worker_threads';
import type { ContinuationControl, ContinuationMessage } from '../protocol/reply.js';

/**
 * The gateway's end of a request that goes on after its reply (see FollowUp on the worker side):
 * the streamed body as a ReadableStream that pulls one chunk at a time from the thread (so a slow
 * client slows the producer down instead of filling memory), and `onDone` once nothing of the
 * request runs on its thread any more. Cancelling the stream (the client left) stops the
 * producer: a generator's finally blocks run, a ReadableStream's cancel() is called.
 */
export class ContinuationReceiver {
  /** The body, when the reply was streamed. */
  readonly body: ReadableStream<Uint8Array> | null;
  readonly #port: MessagePort;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #arrived: (() => void) | undefined;
  #bodyOpen: boolean;
  #done = false;
  readonly #onDone: () => void;
  readonly #onFailure: (() => boolean) | undefined;

  /**
   * `onFailure` may end a body that failed midway itself (it returns true then, e.g. by cutting
   * the connection); otherwise the body stream errors.
   */
  constructor(port: MessagePort, streamed: boolean, onDone: () => void, onFailure?: () => boolean) {
    this.#port = port;
    this.#onDone = onDone;
    this.#onFailure = onFailure;
    this.#bodyOpen = streamed;
    this.body = streamed
      ? new ReadableStream<Uint8Array>({
          start: (controller) => {
            this.#controller = controller;
          },
          pull: () => {
            this.#send({ t: 'pull' });
            return new Promise<void>((resolve) => (this.#arrived = resolve));
          },
          cancel: () => {
            this.#bodyOpen = false;
            this.#send({ t: 'cancel' });
          },
        })
      : null;
    port.on('message', (message: ContinuationMessage) => this.#onMessage(message));
    // The thread died (or was terminated) before it said done.
    port.once('close', () => this.#finish(new Error('the thread ended before the response body did')));
  }

  #onMessage(message: ContinuationMessage): void {
    switch (message.t) {
      case 'chunk':
        if (this.#bodyOpen) this.#controller!.enqueue(new Uint8Array(message.data));
        break;
      case 'end':
        if (this.#bodyOpen) this.#controller!.close();
        this.#bodyOpen = false;
        break;
      case 'error':
        if (this.#bodyOpen) {
          // The thread logged it already; a stream error would be logged again by the HTTP layer.
          if (this.#onFailure?.() !== true) this.#controller!.error(new Error(message.message));
        }
        this.#bodyOpen = false;
        break;
      case 'done':
        this.#finish(new Error('the function finished without ending its response body'));
        this.#port.close();
        return;
    }
    this.#wake();
  }

  #finish(unended: Error): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#bodyOpen) {
      this.#bodyOpen = false;
      this.#controller!.error(unended);
    }
    this.#wake();
    this.#onDone();
  }

  #wake(): void {
    const arrived = this.#arrived;
    this.#arrived = undefined;
    arrived?.();
  }

  #send(message: ContinuationControl): void {
    if (!this.#done) this.#port.postMessage(message);
  }
}
