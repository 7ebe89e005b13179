/**
 * Node's fetch-API and web-stream globals (Request, Response, Headers, FormData, fetch,
 * ReadableStream, ...) load undici and the web streams on first use: about 40 ms and 3 MB on
 * every thread. A function that never touches them (it returns a string or an object) should
 * not pay that, at thread start or ever. So fngate's own code on the thread never reads them
 * first: this module wraps those globals, learns when the function's code (or fngate's, on its
 * behalf) first reaches one, and only then runs what needs them (the BufferedResponse, the
 * Request behind an EnvelopeRequest). `webApisLoaded()` lets fngate's `instanceof` checks skip
 * values that cannot exist yet.
 */

/** The globals whose first use loads undici or the web streams. */
const LAZY = [
  'Request',
  'Response',
  'Headers',
  'FormData',
  'fetch',
  'ReadableStream',
  'WritableStream',
  'TransformStream',
  'TextEncoderStream',
  'TextDecoderStream',
] as const;

let loaded = false;
const onLoad: (() => void)[] = [];
const originals = new Map<string, PropertyDescriptor>();

/** Whether any of them has been used: only then can a Response or a ReadableStream exist. */
export function webApisLoaded(): boolean {
  return loaded;
}

/** Runs `task` when the web APIs load (at once if they have). */
export function whenWebApisLoad(task: () => void): void {
  if (loaded) task();
  else onLoad.push(task);
}

/** Loads them now (fngate needs one itself, e.g. to build a Request for the handler). */
export function loadWebApis(): void {
  if (loaded) return;
  loaded = true;
  for (const [name, descriptor] of originals) Object.defineProperty(globalThis, name, descriptor);
  for (const task of onLoad.splice(0)) task();
}

/** Wraps the globals; before any user code runs on the thread. */
export function deferWebApis(): void {
  for (const name of LAZY) {
    const descriptor = Object.getOwnPropertyDescriptor(globalThis, name);
    if (descriptor === undefined || !descriptor.configurable) continue;
    originals.set(name, descriptor);
    Object.defineProperty(globalThis, name, {
      configurable: true,
      enumerable: descriptor.enumerable ?? false,
      get() {
        loadWebApis();
        return (globalThis as Record<string, unknown>)[name];
      },
      set(value: unknown) {
        loadWebApis();
        Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: descriptor.enumerable ?? false });
      },
    });
  }
}
