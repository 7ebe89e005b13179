import { describe, expect, it } from 'vitest';
import { fixtureConfig } from '../../helpers/fixtures.js';
import { errorOf, expectHealthy, startRuntime } from '../../helpers/runtime.js';

const config = fixtureConfig('faults');

describe('fault: timeout', () => {
  it('answers 504 and aborts ctx.signal for a cooperative handler, whose thread keeps serving', async () => {
    const server = await startRuntime({ config });
    const before = (await (await server.fetch('/timeout?mode=ok')).json()) as { threadId: number };
    const response = await server.fetch('/timeout?mode=cooperative');
    expect(response.status).toBe(504);
    const error = await errorOf(response);
    expect(error).toMatchObject({ code: 'FNGATE_TIMEOUT', function: 'timeout' });
    expect(error.message).toBe('timeout did not answer within its timeout (300 ms)');
    const after = await server.fetch('/timeout?mode=ok');
    expect(after.status).toBe(200);
    // It stopped when its signal aborted, so its thread was not terminated.
    expect(((await after.json()) as { threadId: number }).threadId).toBe(before.threadId);
    await expectHealthy(server);
  });

  it('answers 504 for a handler that never yields, terminates its thread and starts another', async () => {
    const server = await startRuntime({ config });
    const before = (await (await server.fetch('/timeout?mode=ok')).json()) as { threadId: number };
    const response = await server.fetch('/timeout?mode=spin');
    expect(response.status).toBe(504);
    expect((await errorOf(response)).code).toBe('FNGATE_TIMEOUT');
    for (let i = 0; i < 3; i++) {
      const after = await server.fetch('/timeout?mode=ok');
      expect(after.status).toBe(200);
      expect(((await after.json()) as { threadId: number }).threadId).not.toBe(before.threadId);
    }
    await expectHealthy(server);
  });

  it('counts time spent queued: a request stuck behind a runaway times out too', async () => {
    const server = await startRuntime({ config });
    const [first, second] = await Promise.all([server.fetch('/timeout?mode=spin'), server.fetch('/timeout?mode=ok')]);
    expect([first.status, second.status]).toEqual([504, 504]);
    expect((await errorOf(second)).message).toMatch(/waited 300 ms in the queue without getting a thread/);
    expect((await server.fetch('/timeout?mode=ok')).status).toBe(200);
    await expectHealthy(server);
  });
});
