import { BroadcastChannel } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import type { AbortMessage, BundleMessage, BundleRequest, ExitNotice } from '../protocol/worker-data.js';

/**
 * The channel between a function version's pool and all of its threads at once (the other
 * direction of each task goes through piscina): the bundle a standby thread is to load, the
 * abort of a request whose client left, and a thread's notice that function code exited it.
 */
export class ThreadControl {
  /** The channel's name, for the threads' workerData. */
  readonly name: string;
  readonly #channel: BroadcastChannel;
  /** file:// URL of the bundle; null while a standby pool waits for adopt(). */
  #bundle: string | null;

  /** `onExit`: function code ended a thread with process.exit() while no request ran there. */
  constructor(fn: string, bundleFile: string | undefined, onExit: (code: number) => void) {
    this.name = `fngate:${fn}:${process.pid}:${Math.random().toString(36).slice(2)}`;
    this.#channel = new BroadcastChannel(this.name);
    this.#channel.unref();
    this.#bundle = bundleFile === undefined ? null : pathToFileURL(bundleFile).href;
    // A standby thread asks for its bundle when it starts; one that asks before adopt() is
    // answered by adopt()'s broadcast.
    this.#channel.onmessage = (event) => {
      const data = (event as { data: Partial<BundleRequest & ExitNotice> }).data;
      if (data.wantsBundle && this.#bundle !== null) this.#sendBundle();
      // During a request its 502 says so; outside one, nothing else would tell.
      else if (data.exited !== undefined && !data.duringRequest) onExit(data.exited);
    };
  }

  /** The bundle's file:// URL, or null before adopt(). */
  get bundle(): string | null {
    return this.#bundle;
  }

  /** Gives the threads their bundle (a standby pool's, once it has one). */
  adopt(bundleFile: string): void {
    this.#bundle = pathToFileURL(bundleFile).href;
    this.#sendBundle();
  }

  /** Aborts a running request on whichever thread runs it (its ctx.signal). */
  abort(id: number, reason: AbortMessage['reason']): void {
    const message: AbortMessage = { abort: id, reason };
    this.#channel.postMessage(message);
  }

  close(): void {
    this.#channel.close();
  }

  #sendBundle(): void {
    const message: BundleMessage = { bundle: this.#bundle! };
    this.#channel.postMessage(message);
  }
}
