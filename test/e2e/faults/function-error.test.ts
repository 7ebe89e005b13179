import { describe, expect, it } from 'vitest';
import { fixtureConfig } from '../../helpers/fixtures.js';
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
