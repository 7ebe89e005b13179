import { resourceLimits, threadId } from 'node:worker_threads';
import type { LambdaContext, LambdaHttpEvent, LambdaHttpResult } from '../lambda-types.js';
import type { Context } from '../types.js';

type Callback = (error?: unknown, result?: unknown) => void;
type AnyHandler = (event: LambdaHttpEvent, context: LambdaContext, callback?: Callback) => unknown;

/** Bodies of these types reach the handler as text; everything else as base64. */
const TEXT_TYPE = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded|graphql)|[^;]*\+(json|xml))/i;
/** Statuses that cannot carry a body. */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Calls an AWS Lambda handler `(event, context)` (or the legacy `(event, context, callback)`)
 * with an API Gateway HTTP API event, payload format 2.0, built from the Request, and maps its
 * result back to a Response by the same rules API Gateway applies.
 */
export function createLambdaInvoker(handler: (...args: unknown[]) => unknown, functionName: string): (req: Request, ctx: Context) => Promise<Response> {
  const lambda = handler as AnyHandler;
  return async (req, ctx) => {
    const event = await toEvent(req, ctx);
    const context = toContext(ctx, functionName);
    const result =
      lambda.length >= 3
        ? await new Promise<unknown>((resolve, reject) => {
            const returned = lambda(event, context, (error, value) => (error ? reject(error) : resolve(value)));
            if (returned !== undefined && typeof (returned as PromiseLike<unknown>).then === 'function') (returned as Promise<unknown>).then(resolve, reject);
          })
        : await lambda(event, context);
    return toResponse(result);
  };
}

async function toEvent(req: Request, ctx: Context): Promise<LambdaHttpEvent> {
  const url = new URL(req.url);
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of req.headers) {
    if (name === 'cookie') cookies = value.split(/;\s*/).filter(Boolean);
    else headers[name] = value;
  }
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams) query[key] = key in query ? `${query[key]},${value}` : value;

  let body: string | undefined;
  let isBase64Encoded = false;
  if (req.body !== null) {
    const bytes = new Uint8Array(await req.arrayBuffer());
    if (bytes.byteLength > 0) {
      isBase64Encoded = !TEXT_TYPE.test(req.headers.get('content-type') ?? '');
      body = isBase64Encoded ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') : new TextDecoder().decode(bytes);
    }
  }

  const now = new Date();
  const host = req.headers.get('host') ?? url.host;
  const event: LambdaHttpEvent = {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(cookies !== undefined && { cookies }),
    headers,
    ...(url.search.length > 1 && { queryStringParameters: query }),
    ...(Object.keys(ctx.params).length > 0 && { pathParameters: { ...ctx.params } }),
    requestContext: {
      accountId: 'anonymous',
      apiId: 'fngate',
      domainName: host,
      domainPrefix: host.split('.')[0]!.split(':')[0]!,
      http: {
        method: req.method,
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: req.headers.get('x-forwarded-for')?.split(',')[0]!.trim() ?? '127.0.0.1',
        userAgent: req.headers.get('user-agent') ?? '',
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
  return event;
}

function toContext(ctx: Context, functionName: string): LambdaContext {
  return {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: String(resourceLimits.maxOldGenerationSizeMb ?? ''),
    awsRequestId: ctx.requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `fngate/[$LATEST]/thread-${threadId}`,
    getRemainingTimeInMillis: () => Math.max(0, ctx.deadline - Date.now()),
    callbackWaitsForEmptyEventLoop: true,
  };
}

/**
 * API Gateway's rules for payload 2.0: an object with `statusCode` is the response (headers,
 * cookies, body, isBase64Encoded); any other value is a 200 `application/json` response whose
 * body is the value itself when it is a string, else its JSON.
 */
function toResponse(result: unknown): Response {
  if (result !== null && typeof result === 'object' && 'statusCode' in result) {
    const structured = result as LambdaHttpResult;
    const status = Number(structured.statusCode);
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new TypeError(`the Lambda handler returned statusCode ${String(structured.statusCode)}; expected an HTTP status from 200 to 599`);
    }
    const headers = new Headers();
    for (const [name, value] of Object.entries(structured.headers ?? {})) headers.set(name, String(value));
    for (const cookie of structured.cookies ?? []) headers.append('set-cookie', cookie);
    const raw = structured.body;
    let body: string | Uint8Array | null = null;
    if (raw !== undefined && raw !== null && raw !== '' && !NULL_BODY.has(status)) {
      if (typeof raw !== 'string') throw new TypeError(`the Lambda handler returned a body of type ${typeof raw}; expected a string (JSON.stringify objects)`);
      body = structured.isBase64Encoded ? new Uint8Array(Buffer.from(raw, 'base64')) : raw;
    }
    return new Response(body, { status, headers });
  }
  const text = typeof result === 'string' ? result : (JSON.stringify(result) ?? 'null');
  return new Response(text, { status: 200, headers: { 'content-type': 'application/json' } });
}

/** Common Log Format time, as API Gateway writes requestContext.time. */
function clf(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}
