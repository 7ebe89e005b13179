import { describe, expect, it } from 'vitest';
import { fixtureConfig } from '../helpers/fixtures.js';
import { errorOf, startRuntime } from '../helpers/runtime.js';

const config = fixtureConfig('basics');

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
});
