/** What every thread of a function version is started with, and the messages on its control channel. */

/** `workerData` every thread of a function version receives. */
export interface FunctionWorkerData {
  /**
   * file:// URL of this version's bundle; null for a standby pool, whose threads start before the
   * bundle is built and ask for it on the control channel ({@link BundleRequest}).
   */
  readonly bundle: string | null;
  readonly name: string;
  /** The env declared in config (process.env additionally holds NODE_ENV). */
  readonly env: Readonly<Record<string, string>>;
  /** BroadcastChannel on which the main thread asks a thread to abort one request's signal. */
  readonly controlChannel: string;
  /** How the module is called (config `type`). */
  readonly type: 'auto' | 'handler' | 'fetch' | 'lambda';
  /** The function's shared memory (config `sharedMemory`), the same buffer on every thread; null without. */
  readonly shared: SharedArrayBuffer | null;
  /**
   * `fngate invoke`: the function's console output goes to stderr (stdout carries the response
   * body), and a last line without a newline is written when the task ends.
   */
  readonly invoke: boolean;
}

/** Worker -> main on the control channel: a standby thread waits for its bundle. */
export interface BundleRequest {
  readonly wantsBundle: true;
}

/** Main -> workers on the control channel: the bundle of a standby pool, once it is built. */
export interface BundleMessage {
  readonly bundle: string;
}

/**
 * Worker -> main on the control channel: function code called process.exit(). Sent from the
 * thread as it ends; piscina reports an exit only to the requests it was running, so without
 * this one after the response (in a timer, in ctx.waitUntil() work) would go unseen.
 */
export interface ExitNotice {
  readonly exited: number;
  /** Requests were running on the thread: they answer 502 saying so, nothing more to report. */
  readonly duringRequest: boolean;
}

/** Main -> workers on the control channel. Only the thread running `id` reacts. */
export interface AbortMessage {
  readonly abort: number;
  readonly reason: 'timeout' | 'disconnect';
}
