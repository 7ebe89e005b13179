import { describe, expect, it } from 'vitest';
import { fixtureConfig } from '../../helpers/fixtures.js';
import { createProject } from '../../helpers/project.js';
import { rawExchange } from '../../helpers/raw-http.js';
import { errorOf, expectHealthy, startRuntime, type StartedRuntime } from '../../helpers/runtime.js';

const config = fixtureConfig('faults');

async function expectJsonRouteWorks(server: StartedRuntime): Promise<void> {
  const response = await server.fetch('/throws/json', { method: 'POST', body: '{"still":"works"}' });
  expect(await response.json()).toEqual({ parsed: { still: 'works' } });
}

describe('fault: bad HTTP input', () => {
  it('answers 413 from Content-Length alone, without reading the body, and closes the connection', async () => {
    const server = await startRuntime({ config });
    // Announce 1 GiB, send a few bytes, and never more: the answer cannot depend on the body.
    const exchange = await rawExchange(server.url, (socket) => {
      socket.write('POST /throws/json HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n{"a":');
    });
    expect(exchange.status).toBe(413);
    expect(exchange.response).toMatch(/connection: close/i);
    expect(exchange.response).toContain('"code":"FNGATE_BODY_TOO_LARGE"');
    expect(exchange.closed).toBe(true);
    await expectJsonRouteWorks(server);
    await expectHealthy(server);
  });

  it('answers a client that asks first (Expect: 100-continue) with 413 instead of inviting the upload', async () => {
    const server = await startRuntime({ config });
    const exchange = await rawExchange(server.url, (socket) => {
      socket.write('POST /throws/json HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: 1073741824\r\n\r\n');
    });
    expect(exchange.status).toBe(413);
    expect(exchange.response).not.toContain('100 Continue');
    expect(exchange.response).toContain('"code":"FNGATE_BODY_TOO_LARGE"');
    // Under the limit it is invited as usual, and served.
    const small = await rawExchange(server.url, (socket) => {
      socket.write('POST /throws/json HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: 7\r\nConnection: close\r\n\r\n');
      socket.once('data', () => socket.write('{"a":1}'));
    });
    expect(small.response).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK/);
    expect(small.response).toContain('{"parsed":{"a":1}}');
    await expectJsonRouteWorks(server);
  });

  it('answers 413 when a chunked body grows past bodyLimit, and stops reading it', async () => {
    const server = await startRuntime({ config });
    const exchange = await rawExchange(server.url, (socket) => {
      socket.write('POST /throws/json HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n');
      const chunk = Buffer.alloc(1024 * 1024, 97);
      // 11 MiB in 1 MiB chunks; the server answers once it has seen more than 10 MiB.
      for (let i = 0; i < 11; i++) socket.write(`${chunk.length.toString(16)}\r\n${chunk.toString()}\r\n`);
    });
    expect(exchange.status).toBe(413);
    expect(exchange.response).toMatch(/request body exceeds bodyLimit \(10 MB\): more than 10 MB received/);
    // The rest is not read: the server closes the connection (rawExchange resolves on close).
    expect(exchange.response).toMatch(/connection: close/i);
    expect(exchange.closed).toBe(true);
    await expectJsonRouteWorks(server);
    await expectHealthy(server);
  });

  it('answers 400 FNGATE_BAD_REQUEST for invalid percent-encoding in the path', async () => {
    const server = await startRuntime({ config });
    const exchange = await rawExchange(server.url, (socket) => {
      socket.end('GET /healthy/%E0%A4%A HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    });
    expect(exchange.status).toBe(400);
    expect(exchange.response).toContain('"message":"invalid percent-encoding in path /healthy/%E0%A4%A"');
    await expectHealthy(server);
  });

  it('answers 431 to a flood of headers before any function runs', async () => {
    const server = await startRuntime({ config });
    const exchange = await rawExchange(server.url, (socket) => {
      const flood = Array.from({ length: 400 }, (_, i) => `X-Flood-${i}: ${'v'.repeat(60)}\r\n`).join('');
      socket.write(`GET /healthy HTTP/1.1\r\nHost: localhost\r\n${flood}\r\n`);
    });
    expect(exchange.status).toBe(431);
    await expectHealthy(server);
  });

  describe('slow clients', () => {
    async function slowServer() {
      const project = await createProject({
        'config.yaml': [
          'server:',
          '  headersTimeout: 300ms',
          '  requestTimeout: 600ms',
          'functions:',
          '  healthy:',
          '    routes: [GET /healthy, POST /healthy]',
        ].join('\n'),
        'functions/healthy.ts': 'export default () => "ok";',
      });
      return startRuntime({ cwd: project.dir });
    }

    it('closes a connection whose headers do not arrive within headersTimeout', async () => {
      const server = await slowServer();
      // Half a request line, then nothing: a slowloris client.
      const exchange = await rawExchange(server.url, (socket) => void socket.write('GET /healthy HTTP/1.1\r\nHost: localhost\r\n'));
      expect(exchange.closed).toBe(true);
      expect([0, 408]).toContain(exchange.status);
      await expectHealthy(server);
    });

    it('answers 408 when the body does not arrive within requestTimeout', async () => {
      const server = await slowServer();
      const exchange = await rawExchange(server.url, (socket) => {
        socket.write('POST /healthy HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\nonly a part');
      });
      expect(exchange.status).toBe(408);
      await expectHealthy(server);
    });
  });
});

describe('fault: bad HTTP input, error body', () => {
  it('names the function and the limit in the 413 body', async () => {
    const server = await startRuntime({ config });
    const response = await server.fetch('/throws/json', { method: 'POST', body: new Uint8Array(10 * 1024 * 1024 + 1) });
    expect(response.status).toBe(413);
    expect(await errorOf(response)).toEqual({
      code: 'FNGATE_BODY_TOO_LARGE',
      function: 'throws',
      message: 'request body exceeds bodyLimit (10 MB): Content-Length 10485761',
    });
  });
});
