import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fixtureConfig } from '../helpers/fixtures.js';
import { startRuntime } from '../helpers/runtime.js';

describe('request and response bodies', () => {
  it('round-trips a 5 MiB binary body byte for byte', async () => {
    const { fetch } = await startRuntime({ config: fixtureConfig('basics') });
    const body = randomBytes(5 * 1024 * 1024);
    const response = await fetch('/echo-bytes', { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-received')).toBe(String(body.byteLength));
    const returned = Buffer.from(await response.arrayBuffer());
    expect(returned.byteLength).toBe(body.byteLength);
    expect(returned.equals(body)).toBe(true);
  });

  it('round-trips a chunked body of unknown length', async () => {
    const { fetch } = await startRuntime({ config: fixtureConfig('basics') });
    const parts = [randomBytes(70_000), randomBytes(1), randomBytes(300_000)];
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const part of parts) controller.enqueue(part);
        controller.close();
      },
    });
    const response = await fetch('/echo-bytes', { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(Buffer.from(await response.arrayBuffer()).equals(Buffer.concat(parts))).toBe(true);
  });
});
