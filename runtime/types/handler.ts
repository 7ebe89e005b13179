/**
 * Public types for function authors: `import type { Handler, Context } from 'fngate'`.
 * A function module lives in `functions/`, is bundled by esbuild and runs only on its own
 * worker threads, never on the gateway's thread.
 */

/** Environment variables a function declared in config.yaml (`functions.NAME.env`). */
export type FunctionEnv = Readonly<Record<string, string>>;

/** Everything fngate tells a handler about the current request besides the Request itself. */
export interface Context<Env extends FunctionEnv = FunctionEnv> {
  /** The function's name in config.yaml, e.g. `"sort"`. */
  readonly name: string;
  /**
   * Route parameters, percent-decoded: for the route `GET /hello/:name`, the request
   * `/hello/ada` gives `{ name: "ada" }`. Empty when the route has none.
   */
  readonly params: Readonly<Record<string, string>>;
  /**
   * Only the variables declared under `env:` for this function. `process.env` holds the same
   * plus `NODE_ENV`; the gateway's own environment is never visible.
   */
  readonly env: Env;
  /**
   * Aborts when the request's `timeout` is reached (reason: a `TimeoutError` DOMException) or
   * the client disconnects (an `AbortError`). Pass it to fetch() or check it in long loops to
   * stop early; a handler that ignores it is stopped by terminating its thread.
   */
  readonly signal: AbortSignal;
  /** Unique id of this request within the running server; the response carries it as `x-request-id`. */
  readonly requestId: string;
  /** Epoch milliseconds at which the request times out (queue wait + run = `timeout`). */
  readonly deadline: number;
  /**
   * The function's shared memory (config `sharedMemory`): the same SharedArrayBuffer on every
   * thread of the function, kept across hot reloads and thread replacement. Coordinate with
   * `Atomics`. null when the function declares none.
   */
  readonly shared: SharedArrayBuffer | null;
  /**
   * Keeps work going after the response is sent (logging, cache writes): the response goes out
   * as soon as the handler returns, and the request keeps its thread slot until every promise
   * passed here settles (so the thread is not counted idle and shutdown waits for it). A
   * rejection is logged with the function's name; it cannot change the response.
   */
  waitUntil(promise: Promise<unknown>): void;
  /**
   * Part of the Workers/Hono `ExecutionContext` (so `export default app` type-checks as a
   * FetchModule); there is no origin to fall through to here, so it does nothing.
   */
  passThroughOnException(): void;
  /** Part of the Workers/Hono `ExecutionContext`; always an empty object here. */
  readonly props: Record<string, unknown>;
  /**
   * Set when the function runs on its `schedule` (or `fngate trigger`) rather than for a
   * request: a module without a `scheduled` export gets a `POST /_fngate/scheduled` Request
   * and this. undefined for requests.
   */
  readonly scheduled?: ScheduledController | undefined;
}

/**
 * A scheduled run, as Cloudflare Workers' `ScheduledController`: given to a module's
 * `scheduled(controller, env, ctx)` export when its config.yaml `schedule` is due.
 */
export interface ScheduledController {
  /** The schedule's cron expression, as in config.yaml. */
  readonly cron: string;
  /** Epoch milliseconds the run was due (for `fngate trigger`: when it was asked for). */
  readonly scheduledTime: number;
  readonly type: 'scheduled';
  /** Workers' retry control; fngate never retries a failed run, so this does nothing. */
  noRetry(): void;
}

/**
 * What runs on a schedule: `export default { fetch, scheduled }`, or
 * `export const scheduled: ScheduledHandler = async (controller, env, ctx) => { ... }`. Its
 * return value is ignored; a throw (or rejection) counts as a failed run.
 */
export type ScheduledHandler<Env extends FunctionEnv = FunctionEnv> = (
  controller: ScheduledController,
  env: Env,
  ctx: Context<Env>,
) => void | Promise<void>;

/**
 * A JSON response: any object or array JSON.stringify can serialize (plain objects, arrays,
 * class instances, objects typed by an interface). Functions are not objects in this sense.
 */
export type JsonResult = object & { readonly call?: never; readonly apply?: never; readonly then?: never };

/** Chunks a streamed body may yield. */
export type StreamChunk = string | Uint8Array | ArrayBuffer;

/**
 * What a handler may return; fngate turns it into the HTTP response:
 * - `Response`: sent as is; a body that is a `ReadableStream` is streamed as it is produced.
 * - `string`: 200, `text/plain; charset=utf-8`.
 * - `Uint8Array` (any typed array or DataView) / `ArrayBuffer`: 200, `application/octet-stream`.
 * - `Blob`: 200 with the blob's type (`application/octet-stream` when it has none).
 * - `ReadableStream`: 200 `application/octet-stream`, streamed; an async generator (or any
 *   async iterable): 200 `text/plain; charset=utf-8`, streamed chunk by chunk.
 * - `null` / `undefined` (or returning nothing): 204 No Content.
 * - a number, boolean, object or array: 200 `application/json` (its JSON).
 * Anything else (a function, a symbol, a bigint, a cyclic object, a `Map` or `Set`) is a 500
 * FNGATE_FUNCTION_ERROR.
 */
export type HandlerResult =
  | Response
  | string
  | ArrayBuffer
  | ArrayBufferView
  | Blob
  | ReadableStream<StreamChunk>
  | AsyncIterable<StreamChunk>
  | number
  | boolean
  | JsonResult
  | null
  | undefined
  | void;

/**
 * A function's default export:
 * ```ts
 * import type { Handler } from 'fngate';
 * const hello: Handler = (req, ctx) => `hello ${ctx.params.name ?? 'world'}`;
 * export default hello;
 * ```
 */
export type Handler<Env extends FunctionEnv = FunctionEnv> = (
  req: Request,
  ctx: Context<Env>,
) => HandlerResult | Promise<HandlerResult>;

/**
 * The alternative default export: an object with `fetch`, the shape of a Hono app or a
 * Cloudflare Workers module (`export default app` works unchanged). `env` is the function's
 * declared env, `ctx` the same Context a Handler receives.
 */
export interface FetchModule<Env extends FunctionEnv = FunctionEnv> {
  fetch(req: Request, env: Env, ctx: Context<Env>): Response | Promise<Response>;
  /** Called when the function's config.yaml `schedule` is due (see ScheduledHandler). */
  scheduled?: ScheduledHandler<Env>;
}
