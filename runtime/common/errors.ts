/**
 * Every failure fngate reports over HTTP has one stable code, and each code maps to exactly one
 * status. A code never changes meaning; new failures get new codes.
 */
export const HTTP_ERRORS = {
  /** The path is not claimed by any route. */
  FNGATE_NOT_FOUND: 404,
  /** The path exists, but not for this method (the response carries `Allow`). */
  FNGATE_METHOD_NOT_ALLOWED: 405,
  /** The request cannot be routed: e.g. invalid percent-encoding in the path. */
  FNGATE_BAD_REQUEST: 400,
  /** An /_fngate/ endpoint was called without the token `server.admin.token` asks for. */
  FNGATE_UNAUTHORIZED: 401,
  /**
   * Bound to a loopback address, the request named a Host that is not localhost, a loopback IP
   * or in `server.allowedHosts`: what a web page reaching fngate through DNS rebinding sends.
   */
  FNGATE_HOST_NOT_ALLOWED: 403,
  /** A scheduled function was triggered while its previous run is still going (runs never overlap). */
  FNGATE_ALREADY_RUNNING: 409,
  /** The request body is larger than `server.bodyLimit`. */
  FNGATE_BODY_TOO_LARGE: 413,
  /** The handler threw, or returned something that is not a valid response. */
  FNGATE_FUNCTION_ERROR: 500,
  /** The worker thread died while running the request (process.exit, uncaught error). */
  FNGATE_WORKER_CRASHED: 502,
  /** The worker thread exceeded the function's `memoryLimit` and was replaced. */
  FNGATE_OUT_OF_MEMORY: 502,
  /** Every thread is busy and `maxQueue` requests are already waiting. */
  FNGATE_QUEUE_FULL: 503,
  /** The function has no working build (build error or load-time throw), or is stopping. */
  FNGATE_UNAVAILABLE: 503,
  /** Queue wait plus run time exceeded the function's `timeout`. */
  FNGATE_TIMEOUT: 504,
  /**
   * The client disconnected before its response was ready. Never sent (nobody is listening);
   * it appears in logs and metrics, with nginx's status 499.
   */
  FNGATE_CLIENT_CLOSED: 499,
  /** A bug in fngate itself; the message says where. */
  FNGATE_INTERNAL_ERROR: 500,
} as const;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;

/**
 * Whether a failure's time says something about the function's latency: not for a request
 * refused at once (queue full) or one nobody was waiting for any more (the client left).
 */
export function isTimedFailure(code: string): boolean {
  return code !== 'FNGATE_QUEUE_FULL' && code !== 'FNGATE_CLIENT_CLOSED';
}

export interface FngateErrorOptions {
  /** The function the failure belongs to, when there is one. */
  fn?: string | undefined;
  /** A stack trace to show in dev mode (already source-mapped when it comes from a worker). */
  detail?: string | undefined;
  /** Seconds, sent as `Retry-After`. */
  retryAfter?: number | undefined;
  /** Extra response headers (e.g. `Allow` for 405). */
  headers?: Record<string, string> | undefined;
  cause?: unknown;
}

/** A failure that the gateway answers with `{ error: { code, message, function } }`. */
export class FngateError extends Error {
  override readonly name = 'FngateError';
  readonly code: HttpErrorCode;
  readonly status: number;
  readonly fn: string | undefined;
  readonly detail: string | undefined;
  readonly retryAfter: number | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: HttpErrorCode, message: string, options: FngateErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = HTTP_ERRORS[code];
    this.fn = options.fn;
    this.detail = options.detail;
    this.retryAfter = options.retryAfter;
    this.headers = options.headers;
  }

  /** The JSON body sent to clients. `detail` (a stack) is included only when asked (dev mode). */
  toBody(includeDetail: boolean): { error: Record<string, string> } {
    const error: Record<string, string> = { code: this.code, message: this.message };
    if (this.fn !== undefined) error.function = this.fn;
    if (includeDetail && this.detail !== undefined) error.stack = this.detail;
    return { error };
  }
}
