import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createProject } from '../helpers/project.js';
import { errorOf, startRuntime, type StartedRuntime } from '../helpers/runtime.js';

// Handlers in the shape of AWS's documentation examples (Node.js, API Gateway HTTP API, payload 2.0).
const FILES: Record<string, string> = {
  // "Hello world" with a structured response.
  'functions/hello.mjs': `export const handler = async (event) => {
  const response = {
    statusCode: 200,
    body: JSON.stringify('Hello from Lambda!'),
  };
  return response;
};
`,
  // No statusCode: API Gateway assumes 200, application/json, the value as the body.
  'functions/plain.mjs': `export const handler = async (event) => {
  return { message: 'Hello from Lambda!', path: event.rawPath };
};
`,
  'functions/text.mjs': `export const handler = async () => 'Hello from Lambda!';
`,
  // Echoes what the event carried, for the tests to inspect.
  'functions/inspect.ts': `import type { LambdaHandler } from 'fngate';
export const handler: LambdaHandler = async (event, context) => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    event,
    context: {
      functionName: context.functionName,
      awsRequestId: context.awsRequestId,
      remaining: context.getRemainingTimeInMillis(),
      memoryLimitInMB: context.memoryLimitInMB,
    },
  }),
});
`,
  // Binary out: a PNG header, base64 encoded.
  'functions/image.mjs': `export const handler = async () => ({
  statusCode: 200,
  headers: { 'Content-Type': 'image/png' },
  body: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff]).toString('base64'),
  isBase64Encoded: true,
});
`,
  'functions/cookies.mjs': `export const handler = async (event) => ({
  statusCode: 201,
  cookies: ['session=abc; HttpOnly', 'theme=dark'],
  headers: { 'x-got-cookies': String(event.cookies?.length ?? 0) },
  body: 'created',
});
`,
  // The legacy callback style.
  'functions/callback.js': `exports.handler = function (event, context, callback) {
  setTimeout(() => callback(null, { statusCode: 200, body: 'called back ' + event.requestContext.http.method }), 5);
};
`,
  // Callback style with an async function: the callback answers before the promise settles.
  'functions/callback-first.mjs': `export const handler = async (event, context, callback) => {
  callback(null, { statusCode: 202, body: 'from the callback' });
  await new Promise((resolve) => setTimeout(resolve, 50));
  return { statusCode: 200, body: 'from the promise' };
};
`,
  'functions/callback-error.js': `exports.handler = (event, context, callback) => {
  callback(new Error('callback failure'));
};
`,
  // Returns nothing: Lambda serializes undefined as null.
  'functions/nothing-returned.mjs': `export const handler = async (event) => {
  event.seen = true;
};
`,
  'functions/no-content.mjs': `export const handler = async () => ({ statusCode: 204 });
`,
  'functions/both.mjs': `export default () => 'default export';
export const handler = async () => ({ statusCode: 200, body: 'lambda handler' });
`,
  'functions/throws.mjs': `export const handler = async () => { throw new Error('lambda failed'); };
`,
  'functions/nothing.mjs': `export const value = 1;
`,
};

const CONFIG = `defaults:
  timeout: 5s
  minThreads: 0
functions:
  hello: { file: functions/hello.mjs, routes: GET /hello }
  plain: { file: functions/plain.mjs, routes: GET /plain }
  text: { file: functions/text.mjs, routes: GET /text }
  inspect: { file: functions/inspect.ts, routes: [ANY /inspect, ANY /items/:id] }
  image: { file: functions/image.mjs, routes: GET /image }
  cookies: { file: functions/cookies.mjs, routes: POST /cookies }
  callback: { file: functions/callback.js, routes: GET /callback }
  both: { file: functions/both.mjs, routes: GET /both, type: lambda }
  throws: { file: functions/throws.mjs, routes: GET /throws }
  nothing: { file: functions/nothing.mjs, routes: GET /nothing, type: lambda }
  nothing-auto: { file: functions/nothing.mjs, routes: GET /nothing-auto }
  callback-first: { file: functions/callback-first.mjs, routes: GET /callback-first }
  callback-error: { file: functions/callback-error.js, routes: GET /callback-error }
  nothing-returned: { file: functions/nothing-returned.mjs, routes: GET /nothing-returned }
  no-content: { file: functions/no-content.mjs, routes: DELETE /no-content }
`;

async function lambdaProject(): Promise<StartedRuntime> {
  const project = await createProject({ 'config.yaml': CONFIG, ...FILES });
  return startRuntime({ config: project.path('config.yaml'), mode: 'dev', logRequests: false });
}

interface Seen {
  event: Record<string, unknown> & { headers: Record<string, string>; requestContext: { http: Record<string, string>; requestId: string } };
  context: { functionName: string; awsRequestId: string; remaining: number; memoryLimitInMB: string };
}

/** A GET through node:http, which sends each value of an array-valued header as its own header line (fetch() would join them). */
function rawGet(url: string, headers: Record<string, string | string[]>): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve(JSON.parse(text) as Seen));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('AWS Lambda handlers (API Gateway HTTP API, payload 2.0)', () => {
  it('maps structured, plain-object, string and empty results as API Gateway does', async () => {
    const server = await lambdaProject();
    // statusCode given: no application/json default; a body without a content type is text/plain.
    const hello = await server.fetch('/hello');
    expect(hello.status).toBe(200);
    expect(hello.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await hello.text()).toBe('"Hello from Lambda!"');

    // No statusCode: 200, application/json, the value's JSON.
    const plain = await server.fetch('/plain');
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toBe('application/json');
    expect(await plain.json()).toEqual({ message: 'Hello from Lambda!', path: '/plain' });

    // A string: 200, application/json, the string itself (not JSON-quoted).
    const text = await server.fetch('/text');
    expect(text.status).toBe(200);
    expect(text.headers.get('content-type')).toBe('application/json');
    expect(await text.text()).toBe('Hello from Lambda!');

    // Nothing returned: Lambda's payload is null.
    const nothing = await server.fetch('/nothing-returned');
    expect([nothing.status, nothing.headers.get('content-type'), await nothing.text()]).toEqual([200, 'application/json', 'null']);

    const noContent = await server.fetch('/no-content', { method: 'DELETE' });
    expect([noContent.status, noContent.headers.get('content-type'), await noContent.text()]).toEqual([204, null, '']);
  });

  it('builds the v2 event: raw path and query, lower-case headers, cookies, path parameters, request context', async () => {
    const server = await lambdaProject();
    const response = await server.fetch('/items/a%20b?tag=x&tag=y&q=1&sp=a%20b', {
      headers: { 'X-Custom': 'v', cookie: 'a=1; b=2', 'user-agent': 'test-agent' },
    });
    expect(response.status).toBe(200);
    const { event, context } = (await response.json()) as Seen;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/items/a%20b',
      rawQueryString: 'tag=x&tag=y&q=1&sp=a%20b',
      cookies: ['a=1', 'b=2'],
      queryStringParameters: { tag: 'x,y', q: '1', sp: 'a b' },
      pathParameters: { id: 'a b' },
      isBase64Encoded: false,
      requestContext: {
        accountId: '000000000000',
        apiId: 'fngate',
        domainName: new URL(server.url).host,
        domainPrefix: new URL(server.url).hostname,
        http: { method: 'GET', path: '/items/a%20b', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test-agent' },
        routeKey: '$default',
        stage: '$default',
      },
    });
    const requestContext = event.requestContext as unknown as { time: string; timeEpoch: number };
    expect(requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(Math.abs(requestContext.timeEpoch - Date.now())).toBeLessThan(10_000);
    expect(event.headers['x-custom']).toBe('v');
    expect(Object.keys(event.headers).every((name) => name === name.toLowerCase())).toBe(true);
    expect(event.headers.cookie).toBeUndefined();
    expect(event.body).toBeUndefined();
    expect(event.requestContext.requestId).toBe(response.headers.get('x-request-id'));
    expect(context.functionName).toBe('inspect');
    expect(context.awsRequestId).toBe(response.headers.get('x-request-id'));
    expect(context.remaining).toBeGreaterThan(0);
    expect(context.remaining).toBeLessThanOrEqual(5000);
    expect(context.memoryLimitInMB).toBe('512');

    // Without query, cookies or route parameters those fields are absent.
    const bare = (await (await server.fetch('/inspect')).json()) as Seen;
    expect(bare.event.rawQueryString).toBe('');
    expect(bare.event).not.toHaveProperty('queryStringParameters');
    expect(bare.event).not.toHaveProperty('cookies');
    expect(bare.event).not.toHaveProperty('pathParameters');
  });

  it('joins repeated headers with "," and collects every Cookie header', async () => {
    const server = await lambdaProject();
    const seen = await rawGet(`${server.url}/inspect`, { 'X-Multi': ['one', 'two, three'], Cookie: ['a=1; b=2', 'c=3'] });
    expect(seen.event.headers['x-multi']).toBe('one,two, three');
    expect(seen.event.cookies).toEqual(['a=1', 'b=2', 'c=3']);
    expect(seen.event.headers.cookie).toBeUndefined();
  });

  it('passes a JSON body as text and a binary body as base64', async () => {
    const server = await lambdaProject();
    const json = (await (
      await server.fetch('/inspect', { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } })
    ).json()) as Seen;
    expect(json.event).toMatchObject({ body: '{"a":1}', isBase64Encoded: false });

    const bytes = randomBytes(300);
    const binary = (await (
      await server.fetch('/inspect', { method: 'POST', body: bytes, headers: { 'content-type': 'application/octet-stream' } })
    ).json()) as Seen;
    expect(binary.event.isBase64Encoded).toBe(true);
    expect(Buffer.from(binary.event.body as string, 'base64').equals(bytes)).toBe(true);
  });

  it('sends a base64 result as the exact bytes', async () => {
    const server = await lambdaProject();
    const image = await server.fetch('/image');
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect([...new Uint8Array(await image.arrayBuffer())]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff]);
  });

  it('turns result cookies into one Set-Cookie header each, and reads request cookies', async () => {
    const server = await lambdaProject();
    const response = await server.fetch('/cookies', { method: 'POST', headers: { cookie: 'x=1; y=2; z=3' } });
    expect(response.status).toBe(201);
    expect(response.headers.getSetCookie()).toEqual(['session=abc; HttpOnly', 'theme=dark']);
    expect(response.headers.get('x-got-cookies')).toBe('3');
    expect(await response.text()).toBe('created');
  });

  it('supports the callback style, and type: lambda picks `handler` over a default export', async () => {
    const server = await lambdaProject();
    expect(await (await server.fetch('/callback')).text()).toBe('called back GET');
    // Whichever comes first: here the callback.
    const first = await server.fetch('/callback-first');
    expect([first.status, await first.text()]).toEqual([202, 'from the callback']);
    const failed = await server.fetch('/callback-error');
    expect(failed.status).toBe(500);
    expect(await errorOf(failed)).toMatchObject({ code: 'FNGATE_FUNCTION_ERROR', message: expect.stringContaining('callback failure') as unknown });
    expect(await (await server.fetch('/both')).text()).toBe('lambda handler');
  });

  it('answers 500 for a throwing handler and 503 for a module without a handler, with clear messages', async () => {
    const server = await lambdaProject();
    const thrown = await server.fetch('/throws');
    expect(thrown.status).toBe(500);
    const error = await errorOf(thrown);
    expect(error.code).toBe('FNGATE_FUNCTION_ERROR');
    expect(error.message).toContain('lambda failed');

    const missing = await server.fetch('/nothing');
    expect(missing.status).toBe(503);
    const unavailable = await errorOf(missing);
    expect(unavailable.code).toBe('FNGATE_UNAVAILABLE');
    expect(unavailable.message).toContain('must export a Lambda handler: export const handler = async (event, context) => ...; found no `handler` export');

    // type: auto, neither a default nor a handler export.
    const missingAuto = await server.fetch('/nothing-auto');
    expect(missingAuto.status).toBe(503);
    const unavailableAuto = await errorOf(missingAuto);
    expect(unavailableAuto.code).toBe('FNGATE_UNAVAILABLE');
    expect(unavailableAuto.message).toContain('or export a Lambda `handler`; found no default export');

    // The other functions are unaffected.
    expect((await server.fetch('/text')).status).toBe(200);
  });
});
