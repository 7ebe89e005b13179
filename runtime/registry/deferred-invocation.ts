import { FngateError } from '../common/errors.js';
import { formatDuration } from '../config/units.js';
import type { Invocation } from '../protocol/invocation.js';
import type { TaskReply } from '../protocol/reply.js';

/**
 * A request for a function whose first version is still loading at start-up: it waits for
 * that version (at most the function's timeout), then starts on it. The client sees no
 * difference but the wait; a function that fails to load answers as it would have.
 */
export class DeferredInvocation implements Invocation {
  readonly reply: Promise<TaskReply>;
  #started: Invocation | undefined;
  #settled = false;
  #reject!: (error: unknown) => void;
  readonly #fn: string;

  constructor(ready: Promise<unknown>, start: () => Invocation, timeoutMs: number, fn: string) {
    this.#fn = fn;
    this.reply = new Promise<TaskReply>((resolve, reject) => {
      this.#reject = reject;
      const timer = setTimeout(() => {
        this.#give(new FngateError('FNGATE_TIMEOUT', `${fn} did not finish starting within its timeout (${formatDuration(timeoutMs)})`, { fn }));
      }, timeoutMs);
      const go = () => {
        clearTimeout(timer);
        if (this.#settled) return;
        this.#settled = true;
        try {
          this.#started = start();
          this.#started.reply.then(resolve, reject);
        } catch (error) {
          reject(error);
        }
      };
      ready.then(go, go);
    });
  }

  get body(): ReadableStream<Uint8Array> | null {
    return this.#started?.body ?? null;
  }

  cancel(): void {
    if (this.#started !== undefined) this.#started.cancel();
    else this.#give(new FngateError('FNGATE_CLIENT_CLOSED', 'the client disconnected while the function was starting', { fn: this.#fn }));
  }

  #give(error: FngateError): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#reject(error);
  }
}
