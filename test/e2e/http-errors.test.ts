import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { fixtureConfig } from '../helpers/fixtures.js';
import { errorOf, startRuntime } from '../helpers/runtime.js';

const config = fixtureConfig('basics');

/** A raw HTTP/1.1 request with a chunked body, so no Content-Length announces the size. */
function postChunked(url: string, chunks: number, chunkSize: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      // The server may close the connection while we are still sending; the response came first.
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    let sent = 0;
    const pump = () => {
      while (sent < chunks) {
        sent++;
        if (!req.write(Buffer.alloc(chunkSize, 97))) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

describe('HTTP errors', () => {
  it('answers 404 FNGATE_NOT_FOUND for a path no route claims', async () => {
    const { fetch } = await startRuntime({ config });
    const response = await fetch('/nowhere');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await response.json()).toEqual({ error: { code: 'FNGATE_NOT_FOUND', message: 'no route matches GET /nowhere' } });
  });

  it('answers 405 FNGATE_METHOD_NOT_ALLOWED with Allow for a path that exists for other methods', async () => {
    const { fetch } = await startRuntime({ config });
    const response = await fetch('/other', { method: 'DELETE' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
    expect((await errorOf(response)).code).toBe('FNGATE_METHOD_NOT_ALLOWED');
  });

  it('answers 400 FNGATE_BAD_REQUEST for invalid percent-encoding in the path', async () => {
    const { url } = await startRuntime({ config });
    const status = await new Promise<number>((resolve, reject) => {
      request(`${url}/inspect/%E0%A4%A`, (res) => resolve(res.statusCode!)).on('error', reject).end();
    });
    expect(status).toBe(400);
  });

  it('answers 413 FNGATE_BODY_TOO_LARGE by Content-Length without reading the body', async () => {
    const { fetch } = await startRuntime({ config });
    const response = await fetch('/echo-bytes', { method: 'POST', body: new Uint8Array(10 * 1024 * 1024 + 1) });
    expect(response.status).toBe(413);
    const error = await errorOf(response);
    expect(error).toMatchObject({ code: 'FNGATE_BODY_TOO_LARGE', function: 'echo-bytes' });
    expect(error.message).toMatch(/bodyLimit \(10 MB\)/);
    // the function still serves
    const ok = await fetch('/echo-bytes', { method: 'POST', body: 'small' });
    expect(await ok.text()).toBe('small');
  });

  it('answers 413 FNGATE_BODY_TOO_LARGE for a chunked body that grows past the limit', async () => {
    const { url } = await startRuntime({ config });
    const { status, body } = await postChunked(`${url}/echo-bytes`, 200, 64 * 1024); // 12.5 MiB
    expect(status).toBe(413);
    expect(JSON.parse(body).error.code).toBe('FNGATE_BODY_TOO_LARGE');
  });

  it('answers 500 FNGATE_FUNCTION_ERROR with a stack mapped to the .ts line in dev', async () => {
    const { fetch } = await startRuntime({ config, mode: 'dev' });
    const response = await fetch('/throws');
    expect(response.status).toBe(500);
    const error = await errorOf(response);
    expect(error).toMatchObject({ code: 'FNGATE_FUNCTION_ERROR', function: 'throws', message: 'Error: cannot total order 7' });
    expect(error.stack).toMatch(/functions\/throws\.ts:8:\d+/);
  });

  it('leaves stacks out of error bodies in start mode', async () => {
    const { fetch } = await startRuntime({ config, mode: 'start' });
    const error = await errorOf(await fetch('/throws'));
    expect(error.code).toBe('FNGATE_FUNCTION_ERROR');
    expect(error.stack).toBeUndefined();
  });

  it('answers 504 FNGATE_TIMEOUT when a cooperative handler outlives its timeout, then serves again', async () => {
    const { fetch } = await startRuntime({ config });
    const response = await fetch('/slow?ms=5000');
    expect(response.status).toBe(504);
    expect(await errorOf(response)).toMatchObject({ code: 'FNGATE_TIMEOUT', function: 'slow' });
    expect(await (await fetch('/slow?ms=1')).text()).toBe('slept 1');
  });

  it('answers 504 for a handler that never yields, and replaces its thread', async () => {
    const { fetch } = await startRuntime({ config });
    const before = ((await (await fetch('/spin')).json()) as { threadId: number }).threadId;
    const response = await fetch('/spin?forever=1');
    expect(response.status).toBe(504);
    expect((await errorOf(response)).code).toBe('FNGATE_TIMEOUT');
    const after = await fetch('/spin');
    expect(after.status).toBe(200);
    expect(((await after.json()) as { threadId: number }).threadId).not.toBe(before);
    // another function was never affected
    expect((await fetch('/other')).status).toBe(200);
  });
});
