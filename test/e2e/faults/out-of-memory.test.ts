import { describe, expect, it } from 'vitest';
import { fixtureConfig } from '../../helpers/fixtures.js';
import { errorOf, expectHealthy, startRuntime } from '../../helpers/runtime.js';

describe('fault: out of memory', () => {
  it('answers 502 FNGATE_OUT_OF_MEMORY when a handler exceeds memoryLimit, and replaces the thread', async () => {
    const server = await startRuntime({ config: fixtureConfig('faults') });
    const before = (await (await server.fetch('/oom?mode=ok')).json()) as { threadId: number };
    const response = await server.fetch('/oom?mode=leak');
    expect(response.status).toBe(502);
    const error = await errorOf(response);
    expect(error.code).toBe('FNGATE_OUT_OF_MEMORY');
    expect(error.message).toBe('oom ran out of memory (memoryLimit 32 MB); its thread was replaced');
    const after = await server.fetch('/oom?mode=ok');
    expect(after.status).toBe(200);
    expect(((await after.json()) as { threadId: number }).threadId).not.toBe(before.threadId);
    await expectHealthy(server);
  });
});
