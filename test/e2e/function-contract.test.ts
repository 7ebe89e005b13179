import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fixtureConfig } from '../helpers/fixtures.js';
import { errorOf, startRuntime } from '../helpers/runtime.js';
import { waitFor } from '../helpers/wait.js';

const config = fixtureConfig('basics');

describe('function contract', () => {
  it('gives the handler the request, decoded route params, its name and a request id', async () => {
    const { fetch, url } = await startRuntime({ config });
    const response = await fetch('/inspect/x%20y/z?q=1', { method: 'POST', body: 'payload', headers: { 'x-custom': 'v' } });
    const seen = (await response.json()) as Record<string, unknown>;
    expect(seen).toMatchObject({
      method: 'POST',
      url: `${url}/inspect/x%20y/z?q=1`,
      params: { a: 'x y', b: 'z' },
      name: 'inspect',
      body: 'payload',
    });
    expect(seen.requestId).toMatch(/^\d+$/);
    // The response names the same request.
    expect(response.headers.get('x-request-id')).toBe(seen.requestId);
    expect((seen.headers as Record<string, string>)['x-custom']).toBe('v');
    const noOptional = (await (await fetch('/inspect/only')).json()) as { params: Record<string, string> };
    expect(noOptional.params).toEqual({ a: 'only' });
    const none = (await (await fetch('/inspect')).json()) as { params: Record<string, string> };
    expect(none.params).toEqual({});
  });

  it('turns each kind of return value into the documented response', async () => {
    const { fetch } = await startRuntime({ config });
    const get = (kind: string) => fetch(`/results/${kind}`);

    let r = await get('string');
    expect([r.status, r.headers.get('content-type'), await r.text()]).toEqual([200, 'text/plain; charset=utf-8', 'plain text']);
    r = await get('json');
    expect([r.status, r.headers.get('content-type')]).toEqual([200, 'application/json; charset=utf-8']);
    expect(await r.json()).toEqual({ ok: true, list: [1, 2] });
    expect(await (await get('array')).json()).toEqual([1, 'two']);
    expect(await (await get('number')).json()).toBe(42);
    r = await get('null');
    expect([r.status, await r.text()]).toEqual([204, '']);
    expect((await get('undefined')).status).toBe(204);
    r = await get('bytes');
    expect([r.headers.get('content-type'), await r.text()]).toEqual(['application/octet-stream', 'bytes!']);
    expect(await (await get('arraybuffer')).text()).toBe('ab');
    r = await get('blob');
    expect([r.status, r.headers.get('content-type'), r.headers.get('content-length'), await r.text()]).toEqual([200, 'text/html', '11', '<p>blob</p>']);
    for (let i = 0; i < 3; i++) {
      expect([...new Uint8Array(await (await get('kept-bytes')).arrayBuffer())]).toEqual([1, 2, 3]);
    }
    r = await get('response');
    expect(r.status).toBe(201);
    expect(r.headers.get('content-type')).toBe('text/x-custom');
    expect(r.headers.get('x-extra')).toBe('yes');
    expect(r.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await r.text()).toBe('custom');
    r = await get('empty-response');
    expect([r.status, await r.text()]).toEqual([202, '']);
  });

  it('answers HEAD with the headers of GET: each set-cookie on its own, and a stream cancelled instead of left holding its slot', async () => {
    const server = await startRuntime({ config });
    const head = await server.fetch('/results/response', { method: 'HEAD' });
    expect(head.status).toBe(201);
    expect(head.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(head.headers.get('content-length')).toBe('6');
    for (let i = 0; i < 3; i++) expect((await server.fetch('/results/stream', { method: 'HEAD' })).status).toBe(200);
    const results = () => server.runtime.functions().find((fn) => fn.name === 'results')!;
    await waitFor(() => results().running === 0, { what: 'the HEAD streams to release their slots' });
    expect(await (await server.fetch('/results/stream')).text()).toBe('streamed');
  });

  it('answers 500 FNGATE_FUNCTION_ERROR for values that cannot become a response', async () => {
    const { fetch } = await startRuntime({ config });
    const expectations: Record<string, RegExp> = {
      function: /handler returned a function/,
      symbol: /handler returned a symbol/,
      cyclic: /cannot be serialized to JSON/,
      'bad-status': /RangeError/,
      'bad-header': /header "x-ctl" has an invalid character/,
      map: /handler returned a Map \(return Object\.fromEntries\(map\)\), which has no JSON form/,
    };
    for (const [kind, message] of Object.entries(expectations)) {
      const response = await fetch(`/results/${kind}`);
      expect(response.status, kind).toBe(500);
      const error = await errorOf(response);
      expect(error.code).toBe('FNGATE_FUNCTION_ERROR');
      expect(error.function).toBe('results');
      expect(error.message).toMatch(message);
    }
    // the same thread keeps serving
    expect(await (await fetch('/results/string')).text()).toBe('plain text');
  });

  it('calls fetch(req, env, ctx) on a Workers-style default export, as a method', async () => {
    const { fetch } = await startRuntime({ config });
    const response = await fetch('/fetch-style/some/path');
    expect(await response.json()).toEqual({ path: '/fetch-style/some/path', style: 'workers', name: 'fetch-style', self: true });
  });

  it('bundles a CommonJS module that requires a Node built-in', async () => {
    const { fetch } = await startRuntime({ config });
    expect(await (await fetch('/uses-cjs')).json()).toEqual({ kind: 'commonjs', platform: process.platform });
  });

  it('gives each project file its own import.meta.url and __dirname, so files next to the source are found', async () => {
    const { fetch } = await startRuntime({ config });
    const seen = (await (await fetch('/reads-data')).json()) as Record<string, string>;
    expect(seen).toEqual({
      viaImportMeta: 'read next to the source',
      viaDirname: 'read next to the source',
      filename: fileURLToPath(new URL('../fixtures/basics/functions/reads-data.ts', import.meta.url)),
    });
  });

  it('hands the handler a real Request: instanceof, clone, body stream, bodyUsed, a single read, ctx.signal', async () => {
    const { fetch } = await startRuntime({ config });
    const post = async (mode: string, body: string | Uint8Array, headers: Record<string, string> = {}) =>
      (await fetch(`/request-api?mode=${mode}`, { method: 'POST', body, headers })).json();
    expect(await post('plain', 'abc', { 'content-type': 'text/x-test' })).toEqual({
      signalIsContextSignal: true,
      contentType: 'text/x-test',
      bytes: 3,
      bodyUsed: true,
    });
    expect(await post('clone', 'twin')).toEqual({ original: 'twin', copy: 'twin', isRequest: true });
    expect(await post('stream', new Uint8Array(300_000))).toEqual({ bytes: 300_000, bodyUsed: true });
    expect(await post('twice', '{"a":1}')).toEqual({
      first: { a: 1 },
      second: 'TypeError: Body is unusable: Body has already been read',
      bodyUsed: true,
    });
  });

  it("builds Responses that behave as the platform's: default type, status check, clone, stream, single read", async () => {
    const { fetch } = await startRuntime({ config });
    expect(await (await fetch('/response-api')).json()).toEqual({
      defaultType: 'text/plain;charset=UTF-8',
      noDefaultTypeForBytes: null,
      nullBodyStatus: 'TypeError',
      staticJsonIsResponse: true,
      clone: ['abc', 'abc', 201, '1'],
      bodyUsedAfterRead: true,
      secondRead: 'TypeError',
      stream: ['streamed', true],
      bytes: [1, 2, 3],
      json: { n: 2 },
      blob: 'blob',
      platformStillWorks: 's',
    });
    for (let i = 0; i < 3; i++) {
      expect([...new Uint8Array(await (await fetch('/response-api?mode=kept')).arrayBuffer())]).toEqual([7, 8, 9]);
    }
  });
});
