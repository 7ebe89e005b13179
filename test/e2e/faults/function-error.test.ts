import { describe, expect, it } from 'vitest';
import { fixtureConfig } from '../../helpers/fixtures.js';
import { createProject } from '../../helpers/project.js';
import { rawExchange } from '../../helpers/raw-http.js';
import { errorOf, expectHealthy, startRuntime } from '../../helpers/runtime.js';

const config = fixtureConfig('faults');

describe('fault: handler throws or returns garbage', () => {
  it('answers 500 FNGATE_FUNCTION_ERROR with the stack mapped to the .ts line in dev', async () => {
    const server = await startRuntime({ config, mode: 'dev' });
    const response = await server.fetch('/throws?mode=throw');
    expect(response.status).toBe(500);
    expect(response.headers.get('x-fngate-function')).toBe('throws');
    expect(response.headers.get('server-timing')).toMatch(/^total;dur=[\d.]+$/);
    const error = await errorOf(response);
    expect(error).toMatchObject({ code: 'FNGATE_FUNCTION_ERROR', function: 'throws', message: 'TypeError: something went wrong inside' });
    expect(error.stack).toMatch(/^TypeError: something went wrong inside\n\s+at failDeep \(.*functions\/throws\.ts:4:\d+\)/);
    expect(await (await server.fetch('/throws?mode=ok')).text()).toBe('fine');
    await expectHealthy(server);
  });

  it('never includes the stack in start mode', async () => {
    const server = await startRuntime({ config, mode: 'start' });
    const body = (await (await server.fetch('/throws?mode=throw')).json()) as { error: Record<string, string> };
    expect(body).toEqual({
      error: { code: 'FNGATE_FUNCTION_ERROR', message: 'TypeError: something went wrong inside', function: 'throws' },
    });
  });

  it('answers 500 for a return value that cannot become a response', async () => {
    const server = await startRuntime({ config });
    const response = await server.fetch('/throws?mode=garbage');
    expect(response.status).toBe(500);
    expect(await errorOf(response)).toMatchObject({ code: 'FNGATE_FUNCTION_ERROR', message: expect.stringMatching(/handler returned a symbol/) });
    expect(await (await server.fetch('/throws?mode=ok')).text()).toBe('fine');
    await expectHealthy(server);
  });

  it('leaves malformed JSON to the handler: an unguarded req.json() is a 500 for that request only', async () => {
    const server = await startRuntime({ config });
    const response = await server.fetch('/throws/json', { method: 'POST', body: '{"unterminated": ' });
    expect(response.status).toBe(500);
    expect((await errorOf(response)).message).toMatch(/^SyntaxError: /);
    const good = await server.fetch('/throws/json', { method: 'POST', body: '{"a":1}' });
    expect(await good.json()).toEqual({ parsed: { a: 1 } });
    await expectHealthy(server);
  });
});

describe('fault: a response Node refuses to write', () => {
  it('answers 500 FNGATE_FUNCTION_ERROR in JSON for a header Node refuses (trailer on a buffered body), and answers the next pipelined request', async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  trailer:\n    routes: GET /trailer\n  healthy:\n    routes: GET /healthy\n',
      'functions/trailer.ts': "export default () => new Response('ok', { headers: { trailer: 'x-checksum' } });\n",
      'functions/healthy.ts': 'export default () => "ok";\n',
    });
    const server = await startRuntime({ cwd: project.dir });
    const exchange = await rawExchange(server.url, (socket) => {
      socket.write('GET /trailer HTTP/1.1\r\nHost: localhost\r\n\r\nGET /healthy HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    });
    const [first, second] = exchange.response.split(/(?=HTTP\/1\.1 )/);
    expect(first).toMatch(/^HTTP\/1\.1 500 Internal Server Error\r\n/);
    expect(first).toMatch(/content-type: application\/json/i);
    expect(first).not.toMatch(/trailer:/i);
    const body = JSON.parse(first!.slice(first!.indexOf('\r\n\r\n') + 4)) as { error: { code: string; function: string; message: string } };
    expect(body.error).toMatchObject({ code: 'FNGATE_FUNCTION_ERROR', function: 'trailer' });
    expect(body.error.message).toMatch(/trailer/i);
    expect(second).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(second).toMatch(/\r\n\r\nok$/);
    expect(server.logs.text()).toMatch(/\[trailer\] its response could not be sent as it was: Trailers are invalid .*; answered 500 FNGATE_FUNCTION_ERROR instead/);
  });
});
