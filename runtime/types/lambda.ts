/**
 * Types for AWS Lambda handlers run by fngate (`type: lambda`, or a module exporting `handler`
 * and no default): the API Gateway HTTP API event, payload format version 2.0, the Lambda
 * context, and what the handler may return. Shapes follow AWS's "Create AWS Lambda proxy
 * integrations for HTTP APIs"; fields fngate cannot know locally carry fixed placeholders
 * (account `000000000000`, api `fngate`, stage and route key `$default`, source IP 127.0.0.1).
 * Values are compatible with `APIGatewayProxyEventV2` / `APIGatewayProxyResultV2` from
 * `@types/aws-lambda`.
 */

/** The event a Lambda handler receives for each request (API Gateway HTTP API, payload 2.0). */
export interface LambdaHttpEvent {
  readonly version: '2.0';
  /** Always `$default`: fngate routes by config.yaml, not by API Gateway route keys. */
  readonly routeKey: string;
  /** The path as sent, not decoded: `/items/a%20b`. */
  readonly rawPath: string;
  /** The query string as sent, without `?` (`''` when there is none). */
  readonly rawQueryString: string;
  /**
   * Every `Cookie` header of the request split at `;` into `name=value` strings, in order.
   * Absent when the request has no cookies.
   */
  readonly cookies?: string[];
  /**
   * Lower-case names. A repeated header's values are joined with `,` (no space), as API Gateway
   * does. The `cookie` header is not here: see `cookies`.
   */
  readonly headers: Record<string, string>;
  /** Decoded query parameters; a repeated key's values joined with `,`. Absent without a query. */
  readonly queryStringParameters?: Record<string, string>;
  /** The route's parameters (`GET /items/:id` -> `{ id }`), decoded. Absent when the route has none. */
  readonly pathParameters?: Record<string, string>;
  readonly requestContext: {
    /** `000000000000` (there is no AWS account locally). */
    readonly accountId: string;
    /** `fngate` */
    readonly apiId: string;
    /** The request's Host header, e.g. `localhost:3000`. */
    readonly domainName: string;
    /** The first label of the host name (`localhost`); an IP address whole. */
    readonly domainPrefix: string;
    readonly http: {
      readonly method: string;
      /** Same as `rawPath`. */
      readonly path: string;
      /** `HTTP/1.1` */
      readonly protocol: string;
      /** Always `127.0.0.1`: fngate does not pass the peer address to functions. */
      readonly sourceIp: string;
      /** The User-Agent header, `''` without one. */
      readonly userAgent: string;
    };
    /** fngate's request id, also the response's `x-request-id` and `context.awsRequestId`. */
    readonly requestId: string;
    /** `$default` */
    readonly routeKey: string;
    /** `$default` */
    readonly stage: string;
    /** When the request reached the function, Common Log Format in UTC: `25/Nov/2026:04:50:00 +0000`. */
    readonly time: string;
    /** The same instant, epoch milliseconds. */
    readonly timeEpoch: number;
  };
  /**
   * The request body: as text when its Content-Type is textual (`text/*`, `application/json`,
   * `application/xml`, `application/javascript`, `application/x-www-form-urlencoded`,
   * `application/graphql`, any `+json` / `+xml` type), otherwise base64 (then `isBase64Encoded`
   * is true; a body without a Content-Type counts as binary). Absent when there is no body.
   */
  readonly body?: string;
  readonly isBase64Encoded: boolean;
}

/** The second argument of a Lambda handler. */
export interface LambdaContext {
  /** The function's name in config.yaml. */
  readonly functionName: string;
  /** `$LATEST` */
  readonly functionVersion: string;
  /** `arn:aws:lambda:local:000000000000:function:NAME` */
  readonly invokedFunctionArn: string;
  /** The function's `memoryLimit` (each thread's heap limit) in MB, as a string: `'512'` by default. */
  readonly memoryLimitInMB: string;
  /** The request's id (also `x-request-id` on the response and `event.requestContext.requestId`). */
  readonly awsRequestId: string;
  /** `/aws/lambda/NAME` (informational: output goes to fngate's log, prefixed with the function's name). */
  readonly logGroupName: string;
  /** `fngate/[$LATEST]/thread-N`, N the worker thread's id. */
  readonly logStreamName: string;
  /** Milliseconds left until the request's `timeout` (queue wait included), never negative. */
  getRemainingTimeInMillis(): number;
  /** Accepted for compatibility, without effect: the response goes out when the handler settles. */
  callbackWaitsForEmptyEventLoop: boolean;
}

/**
 * The structured result ("To customize the response, your Lambda function should return a
 * response with the following format"). Recognized by a `statusCode` that is not undefined.
 */
export interface LambdaHttpResult {
  /** An HTTP status from 200 to 599 (a numeric string is accepted). */
  readonly statusCode: number;
  /** Response headers; values are converted with String(). No Content-Type default is documented by AWS: fngate sends `text/plain; charset=utf-8` for a body without one, as API Gateway does. */
  readonly headers?: Record<string, string | number | boolean>;
  /** Each entry becomes one `Set-Cookie` header, e.g. `['session=abc; HttpOnly', 'theme=dark']`. */
  readonly cookies?: string[];
  /** Always a string (JSON.stringify objects). Ignored for 204, 205 and 304. */
  readonly body?: string;
  /** `body` is base64 and is sent decoded, as the exact bytes (images, PDFs, ...). */
  readonly isBase64Encoded?: boolean;
}

/**
 * What a handler may return (or pass to its callback):
 * - `LambdaHttpResult` (an object with `statusCode`): used as the response.
 * - a string: 200, `content-type: application/json`, the string itself as the body (AWS: the
 *   output `"Hello from Lambda!"` gives the body `Hello from Lambda!`).
 * - any other JSON value (an object without `statusCode`, an array, a number, a boolean, null):
 *   200, `content-type: application/json`, its JSON as the body.
 * - `undefined` / nothing: Lambda serializes it as `null`, so 200 `application/json` with the
 *   body `null` (unlike a plain fngate handler, which answers 204).
 */
export type LambdaResult = LambdaHttpResult | string | number | boolean | object | null | undefined | void;

/** The legacy third argument: `callback(error)` fails the request, `callback(null, result)` answers it. */
export type LambdaCallback = (error?: unknown, result?: LambdaResult) => void;

/**
 * An AWS Lambda handler, exported as `handler`:
 * ```ts
 * import type { LambdaHandler } from 'fngate';
 * export const handler: LambdaHandler = async (event, context) => ({ statusCode: 200, body: 'hi' });
 * ```
 * A function declared with three parameters `(event, context, callback)` is called callback
 * style: the request settles with the callback or the returned promise, whichever comes first.
 */
export type LambdaHandler = (
  event: LambdaHttpEvent,
  context: LambdaContext,
  callback: LambdaCallback,
) => LambdaResult | Promise<LambdaResult>;

/**
 * The event a Lambda handler receives when its config.yaml `schedule` is due: the shape of an
 * EventBridge (CloudWatch Events) scheduled rule's event, `@types/aws-lambda`'s `ScheduledEvent`.
 * The result is ignored; a throw (or rejection, or `callback(error)`) counts as a failed run.
 */
export interface LambdaScheduledEvent {
  readonly version: '0';
  /** Unique per run: the run's request id. */
  readonly id: string;
  readonly 'detail-type': 'Scheduled Event';
  readonly source: 'aws.events';
  /** `000000000000` */
  readonly account: string;
  /** When the run was due, ISO 8601 without milliseconds: `2026-12-01T20:55:00Z`. */
  readonly time: string;
  /** `local` */
  readonly region: string;
  /** `arn:aws:events:local:000000000000:rule/NAME` */
  readonly resources: readonly string[];
  readonly detail: Record<string, never>;
}
