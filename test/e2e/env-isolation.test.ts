import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixtureConfig } from '../helpers/fixtures.js';
import { startRuntime } from '../helpers/runtime.js';

const config = fixtureConfig('basics');

describe('env isolation', () => {
  beforeEach(() => {
    process.env.FNGATE_TEST_PARENT_SECRET = 'do-not-leak';
  });
  afterEach(() => {
    delete process.env.FNGATE_TEST_PARENT_SECRET;
  });

  it('gives a function exactly its declared env plus NODE_ENV, in ctx.env and process.env', async () => {
    const { fetch } = await startRuntime({ config });
    const seen = (await (await fetch('/inspect')).json()) as { env: Record<string, string>; processEnv: Record<string, string> };
    expect(seen.env).toEqual({ GREETING: 'hello', SHARED_NAME: 'inspect-only' });
    expect(Object.keys(seen.processEnv).sort()).toEqual(['GREETING', 'NODE_ENV', 'SHARED_NAME']);
  });

  it("hides the parent's variables and other functions' variables, also from child processes", async () => {
    const { fetch } = await startRuntime({ config });
    const seen = (await (await fetch('/other')).json()) as Record<string, string | null>;
    expect(seen.otherOnly).toBe('1');
    expect(seen.greeting).toBeNull();
    expect(seen.parentSecret).toBeNull();
    expect(JSON.parse(seen.childEnv!)).toEqual(['NODE_ENV', 'OTHER_ONLY']);
  });
});
