import { resourceLimits, threadId } from 'node:worker_threads';
import type { ScheduledTask } from '../protocol/envelope.js';
import type { LambdaCallback, LambdaContext, LambdaHttpEvent, LambdaHttpResult, LambdaScheduledEvent } from '../types/lambda.js';
import { rawHeadersOf } from './envelope-request.js';
import type { Context } from '../types/handler.js';

type AnyHandler = (event: LambdaHttpEvent, context: LambdaContext, callback?: LambdaCallback) => unknown;

/**
 * Bodies of these content types reach the handler as text; any other body (or one without a
 * content type) as base64 with `isBase64Encoded: true`.
 */
const TEXT_TYPE = /^\s*(text\/|application\/(json|xml|javascript|x-www-form-urlencoded|graphql)\b|[^;]*\+(json|xml)\b)/i;
/** Statuses that cannot carry a body. */
const NULL_BODY = new Set([204, 205, 304]);
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** What API Gateway sends for a result with `statusCode` and a body but no Content-Type. */
const DEFAULT_TYPE = 'text/plain; charset=utf-8';
/** What API Gateway assumes for a result without `statusCode`. */
const JSON_TYPE = 'application/json';
/** The local stand-in for an AWS account, in the event and in the function's ARN. */
const ACCOUNT = '000000000000';
/** The function's heap limit (config `memoryLimit`, default 512mb), as the pool set it for this thread. */
const MEMORY_MB = String(resourceLimits.maxOldGenerationSizeMb ?? 512);
const decoder = new TextDecoder();

/**
 * Calls an AWS Lambda handler `(event, context)` (or the legacy `(event, context, callback)`)
 * with an API Gateway HTTP API event, payload format 2.0, built from the Request, and maps its
 * result back to a Response by the rules API Gateway applies. A thrown error or a rejection
 * propagates unchanged (the runtime answers 500 FNGATE_FUNCTION_ERROR).
 */
export function createLambdaInvoker(handler: (...args: unknown[]) => unknown, functionName: string): (req: Request, ctx: Context) => Promise<Response> {
  const lambda = handler as AnyHandler;
  const callbackStyle = lambda.length >= 3;
  return async (req, ctx) => {
    const event = await toEvent(req, ctx);
    const context = toContext(ctx, functionName);
    const result = callbackStyle ? await withCallback(lambda, event, context) : await lambda(event, context, ignoredCallback);
    return toResponse(result);
  };
}

/**
 * Calls an AWS Lambda handler for a scheduled run with an EventBridge scheduled event, as a
 * rule with a schedule expression would; the result is ignored, an error fails the run.
 */
export function createLambdaScheduledInvoker(handler: (...args: unknown[]) => unknown, functionName: string): (task: ScheduledTask, ctx: Context) => Promise<void> {
  const lambda = handler as unknown as (event: LambdaScheduledEvent, context: LambdaContext, callback?: LambdaCallback) => unknown;
  const callbackStyle = lambda.length >= 3;
  return async (task, ctx) => {
    const event: LambdaScheduledEvent = {
      version: '0',
      id: ctx.requestId,
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: ACCOUNT,
      time: new Date(task.scheduledTime).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: 'local',
      resources: [`arn:aws:events:local:${ACCOUNT}:rule/${functionName}`],
      detail: {},
    };
    const context = toContext(ctx, functionName);
    if (callbackStyle) await withCallback(lambda as unknown as AnyHandler, event as unknown as LambdaHttpEvent, context);
    else await lambda(event, context, ignoredCallback);
  };
}

/** Handed to a handler declared with fewer than three parameters: its return value is the result. */
const ignoredCallback: LambdaCallback = () => {};

/** `(event, context, callback)`: settles with whichever comes first, the callback or a returned promise. */
function withCallback(lambda: AnyHandler, event: LambdaHttpEvent, context: LambdaContext): Promise<unknown> {
  return new Promise<unknown>((resolve, reject) => {
    const returned = lambda(event, context, (error, value) => (error !== undefined && error !== null ? reject(error) : resolve(value)));
    if (returned !== null && typeof returned === 'object' && typeof (returned as PromiseLike<unknown>).then === 'function') {
      (returned as PromiseLike<unknown>).then(resolve, reject);
    }
    // A synchronous return value is ignored, as Lambda does for callback-style handlers.
  });
}

async function toEvent(req: Request, ctx: Context): Promise<LambdaHttpEvent> {
  const { rawPath, rawQueryString } = splitUrl(req.url);

  // AWS: "Duplicate headers are combined with commas" ("value1,value2"); "All cookie headers in
  // the request are combined ... and added to the cookies field".
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  const raw = rawHeadersOf(req);
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    if (name === 'cookie') {
      for (const cookie of value.split(';')) {
        const trimmed = cookie.trim();
        if (trimmed !== '') cookies.push(trimmed);
      }
    } else {
      headers[name] = Object.hasOwn(headers, name) ? `${headers[name]},${value}` : value;
    }
  }

  const query: Record<string, string> = {};
  if (rawQueryString !== '') {
    for (const [key, value] of new URLSearchParams(rawQueryString)) {
      query[key] = Object.hasOwn(query, key) ? `${query[key]},${value}` : value;
    }
  }

  // arrayBuffer() hands over the transferred body without building a full Request; empty for GET.
  const bytes = new Uint8Array(await req.arrayBuffer());
  let body: string | undefined;
  let isBase64Encoded = false;
  if (bytes.byteLength > 0) {
    isBase64Encoded = !TEXT_TYPE.test(headers['content-type'] ?? '');
    body = isBase64Encoded ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') : decoder.decode(bytes);
  }

  const now = new Date();
  const domainName = headers.host ?? new URL(req.url).host;
  const params = ctx.params;
  const hasParams = Object.keys(params).length > 0;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    ...(cookies.length > 0 && { cookies }),
    headers,
    ...(rawQueryString !== '' && { queryStringParameters: query }),
    ...(hasParams && { pathParameters: { ...params } }),
    requestContext: {
      accountId: ACCOUNT,
      apiId: 'fngate',
      domainName,
      domainPrefix: domainPrefixOf(domainName),
      http: {
        method: req.method,
        path: rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: ctx.requestId,
      routeKey: '$default',
      stage: '$default',
      time: clf(now),
      timeEpoch: now.getTime(),
    },
    ...(body !== undefined && { body }),
    isBase64Encoded,
  };
}

/** The path and query exactly as in the URL (no decoding, no re-encoding), without `?` and fragment. */
function splitUrl(url: string): { rawPath: string; rawQueryString: string } {
  const scheme = url.indexOf('://');
  const pathStart = scheme === -1 ? 0 : url.indexOf('/', scheme + 3);
  let rest = pathStart === -1 ? '/' : url.slice(pathStart);
  const hash = rest.indexOf('#');
  if (hash !== -1) rest = rest.slice(0, hash);
  const question = rest.indexOf('?');
  return question === -1 ? { rawPath: rest, rawQueryString: '' } : { rawPath: rest.slice(0, question), rawQueryString: rest.slice(question + 1) };
}

/** `abc.execute-api.example.com` -> `abc`; a bare host name or an IP address stays whole. */
function domainPrefixOf(domainName: string): string {
  const host = domainName.startsWith('[') ? domainName.slice(0, domainName.indexOf(']') + 1) : domainName.split(':')[0]!;
  if (host.startsWith('[') || /^[\d.]+$/.test(host)) return host;
  return host.split('.')[0]!;
}

function toContext(ctx: Context, functionName: string): LambdaContext {
  return {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:${ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: MEMORY_MB,
    awsRequestId: ctx.requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `fngate/[$LATEST]/thread-${threadId}`,
    getRemainingTimeInMillis: () => Math.max(0, ctx.deadline - Date.now()),
    callbackWaitsForEmptyEventLoop: true,
  };
}

/**
 * API Gateway's rules for payload 2.0. A result with `statusCode` is the response: status,
 * `headers`, one Set-Cookie per `cookies` entry, `body` (base64-decoded when `isBase64Encoded`);
 * `multiValueHeaders` does not exist in 2.0 and is ignored. Any other value is "valid JSON
 * [that] doesn't return a statusCode": 200, `application/json`, and the body is the function's
 * response (a string as is, anything else as its JSON; `undefined` is JSON `null`, as Lambda
 * serializes it).
 */
function toResponse(result: unknown): Response {
  if (result !== null && typeof result === 'object' && !Array.isArray(result) && (result as { statusCode?: unknown }).statusCode !== undefined) {
    return structuredResponse(result as LambdaHttpResult);
  }
  let text: string | undefined;
  if (typeof result === 'string') text = result;
  else {
    try {
      text = JSON.stringify(result);
    } catch (error) {
      throw new TypeError(`the Lambda handler returned a value that cannot be serialized to JSON: ${(error as Error).message}`);
    }
  }
  return new Response(text ?? 'null', { status: 200, headers: { 'content-type': JSON_TYPE } });
}

function structuredResponse(result: LambdaHttpResult): Response {
  const status = Number(result.statusCode);
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    throw new TypeError(`the Lambda handler returned statusCode ${JSON.stringify(result.statusCode)}; expected an HTTP status from 200 to 599`);
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(result.headers ?? {})) {
    if (value !== undefined && value !== null) headers.set(name, String(value));
  }
  const cookies: unknown = result.cookies ?? [];
  if (!Array.isArray(cookies)) throw new TypeError(`the Lambda handler returned cookies of type ${typeof cookies}; expected an array of strings`);
  for (const cookie of cookies) headers.append('set-cookie', String(cookie));

  const raw: unknown = result.body;
  let body: string | Uint8Array | null = null;
  if (raw !== undefined && raw !== null && raw !== '' && !NULL_BODY.has(status)) {
    if (typeof raw !== 'string') throw new TypeError(`the Lambda handler returned a body of type ${typeof raw}; expected a string (JSON.stringify objects)`);
    body = result.isBase64Encoded === true ? new Uint8Array(Buffer.from(raw, 'base64')) : raw;
    if (!headers.has('content-type')) headers.set('content-type', DEFAULT_TYPE);
  }
  return new Response(body, { status, headers });
}

/** Common Log Format time, as API Gateway writes requestContext.time: `25/Nov/2026:04:50:00 +0000`. */
function clf(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}
