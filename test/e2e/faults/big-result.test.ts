import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createProject } from '../../helpers/project.js';
import { startRuntime, type StartedRuntime } from '../../helpers/runtime.js';

// The gateway thread must only forward a large string or JSON result (the worker encodes it):
// test/pool/reply-body.test.ts checks that it arrives there as bytes; these check what the client
// gets, and that other routes are answered while it is sent. (How fast: bench row B13.)
async function server(): Promise<StartedRuntime> {
  const project = await createProject({
    'config.yaml': 'functions:\n  big:\n    routes: GET /big\n  light:\n    routes: GET /light\n',
    'functions/big.ts': `
export default (req: Request) => {
  const url = new URL(req.url);
  const size = Number(url.searchParams.get('size'));
  const as = url.searchParams.get('as');
  // Multi-byte characters: the length sent must be the UTF-8 length, not the string's.
  if (as === 'json') return { text: 'é'.repeat(size) };
  if (as === 'response') return new Response('€'.repeat(size), { headers: { 'content-type': 'text/html; charset=utf-8' } });
  return 'x'.repeat(size);
};
`,
    'functions/light.ts': 'export default () => "light";\n',
  });
  return startRuntime({ cwd: project.dir });
}

describe('fault: a large string or JSON result', () => {
  it.each([
    ['json', 'application/json; charset=utf-8', (size: number) => JSON.stringify({ text: 'é'.repeat(size) })],
    ['response', 'text/html; charset=utf-8', (size: number) => '€'.repeat(size)],
  ])('sends a large %s result as its exact UTF-8 bytes, with their length', async (as, type, expected) => {
    const { fetch } = await server();
    const size = 2 * 2 ** 20;
    const response = await fetch(`/big?as=${as}&size=${size}`);
    expect(response.headers.get('content-type')).toBe(type);
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(Number(response.headers.get('content-length'))).toBe(bytes.byteLength);
    expect(bytes.equals(Buffer.from(expected(size)))).toBe(true);
  });

  it('answers another route while a 16 MB string result waits for its client to read it', async () => {
    const started = await server();
    const size = 16 * 2 ** 20;
    const { hostname, port } = new URL(started.url);
    const socket = connect(Number(port), hostname);
    let received = 0;
    const firstBytes = new Promise<void>((resolve) => socket.once('data', () => resolve()));
    const ended = new Promise<void>((resolve) => socket.on('end', resolve));
    socket.on('data', (chunk: Buffer) => (received += chunk.byteLength));
    socket.write(`GET /big?size=${size} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
    await firstBytes;
    // The response is mid-way: the client stops reading, most of it waits in the gateway.
    socket.pause();
    expect(await (await started.fetch('/light')).text()).toBe('light');
    socket.resume();
    await ended;
    expect(received).toBeGreaterThan(size);
  });
});
