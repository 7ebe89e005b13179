import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startRuntime } from '../helpers/runtime.js';

const DEMO_CONFIG = fileURLToPath(new URL('../../config.yaml', import.meta.url));

describe('heavy and light routes', () => {
  it('answers hello while sort keeps every one of its threads busy', async () => {
    const { fetch, runtime } = await startRuntime({ config: DEMO_CONFIG });
    const sortThreads = runtime.functions().find((f) => f.name === 'sort')!.maxThreads;
    let sortsDone = 0;
    // Twice as many sorts as threads: every thread busy, the rest queued.
    const sorts = Array.from({ length: sortThreads * 2 }, () =>
      fetch('/sort?size=3000000').then(async (r) => {
        expect(r.status).toBe(200);
        await r.arrayBuffer();
        sortsDone++;
      }),
    );
    // The gateway's thread runs no user code: light requests are answered while sorts run.
    let answeredDuringSorts = 0;
    for (let i = 0; i < 20; i++) {
      const hello = await fetch(`/hello/n${i}`);
      expect(await hello.text()).toBe(`hello n${i}`);
      if (sortsDone === 0) answeredDuringSorts++;
    }
    await Promise.all(sorts);
    expect(answeredDuringSorts).toBeGreaterThan(0);
  });
});
