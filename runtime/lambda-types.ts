/**
 * Types for AWS Lambda handlers run by fngate (`type: lambda`, or a module exporting `handler`
 * and no default): the API Gateway HTTP API event, payload format 2.0, and what the handler may
 * return. Shapes follow AWS's documentation; fields fngate cannot know locally carry fixed
 * placeholders (account `anonymous`, api `fngate`, stage `$default`).
 */

/** The event a Lambda handler receives for each request (API Gateway HTTP API, payload 2.0). */
export interface LambdaHttpEvent {
  readonly version: '2.0';
  /** Always `$default`: fngate routes by config.yaml, not by API Gateway route keys. */
  readonly routeKey: string;
  /** The path as sent, not decoded: `/items/a%20b`. */
  readonly rawPath: string;
  /** The query string without `?` (`''` when there is none). */
  readonly rawQueryString: string;
  /** The request's cookies, split from the Cookie header; absent when there are none. */
  readonly cookies?: string[];
  /** Lower-case names; repeated headers joined with `, `. No `cookie` header (see `cookies`). */
  readonly headers: Record<string, string>;
  /** Repeated keys joined with `,`; absent when there is no query. */
  readonly queryStringParameters?: Record<string, string>;
  /** The route's parameters (`GET /items/:id` -> `{ id }`), decoded; absent when there are none. */
  readonly pathParameters?: Record<string, string>;
  readonly requestContext: {
    readonly accountId: string;
    readonly apiId: string;
    readonly domainName: string;
    readonly domainPrefix: string;
    readonly http: {
      readonly method: string;
      readonly path: string;
      readonly protocol: string;
      readonly sourceIp: string;
      readonly userAgent: string;
    };
    readonly requestId: string;
    readonly routeKey: string;
    readonly stage: string;
    /** `25/Nov/2026:04:50:00 +0000` */
    readonly time: string;
    readonly timeEpoch: number;
  };
  /** Text bodies (text/*, JSON, XML, form data, JavaScript) as a string, others base64. Absent without a body. */
  readonly body?: string;
  readonly isBase64Encoded: boolean;
}

/** The second argument of a Lambda handler. */
export interface LambdaContext {
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  /** The function's `memoryLimit` in MB. */
  readonly memoryLimitInMB: string;
  /** The request's id (also `x-request-id` on the response). */
  readonly awsRequestId: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  /** Milliseconds until the function's `timeout`. */
  getRemainingTimeInMillis(): number;
  callbackWaitsForEmptyEventLoop: boolean;
}

/** The structured result: every field optional except `statusCode`. */
export interface LambdaHttpResult {
  readonly statusCode: number;
  readonly headers?: Record<string, string | number | boolean>;
  /** Each becomes one `Set-Cookie` header. */
  readonly cookies?: string[];
  readonly body?: string;
  /** `body` is base64 (binary responses). */
  readonly isBase64Encoded?: boolean;
}

/**
 * What a handler may return. An object with `statusCode` is used as is; anything else (a
 * string, an object without `statusCode`, an array, a number) becomes a 200 `application/json`
 * response whose body is the string itself, or the value serialized as JSON.
 */
export type LambdaResult = LambdaHttpResult | string | number | boolean | object | null | undefined | void;

/** `export const handler: LambdaHandler = async (event, context) => ({ statusCode: 200, body: 'hi' });` */
export type LambdaHandler = (
  event: LambdaHttpEvent,
  context: LambdaContext,
  callback?: (error?: unknown, result?: LambdaResult) => void,
) => LambdaResult | Promise<LambdaResult>;
