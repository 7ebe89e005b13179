import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createProject } from '../../helpers/project.js';
import { errorOf, startRuntime } from '../../helpers/runtime.js';
import { waitFor } from '../../helpers/wait.js';

const CONFIG = 'functions:\n  healthy:\n    routes: GET /healthy\n  fragile:\n    routes: GET /fragile\n    minThreads: 1\n';
const HEALTHY = 'export default () => "ok";\n';

describe('fault: a module that fails while loading', () => {
  it('answers 503 FNGATE_UNAVAILABLE with the error at once, every time, without respawning threads', async () => {
    const project = await createProject({
      'config.yaml': CONFIG,
      'functions/healthy.ts': HEALTHY,
      'functions/fragile.ts': [
        'import { appendFileSync } from "node:fs";',
        'appendFileSync(new URL("../loads.log", import.meta.url), "load\\n");',
        'throw new Error("DATABASE_URL is not set");',
        'export default () => "never";',
      ].join('\n'),
    });
    const server = await startRuntime({ cwd: project.dir });
    for (let i = 0; i < 3; i++) {
      const response = await server.fetch('/fragile');
      expect(response.status).toBe(503);
      expect(await errorOf(response)).toMatchObject({
        code: 'FNGATE_UNAVAILABLE',
        function: 'fragile',
        message: 'fragile failed to load: Error: DATABASE_URL is not set',
      });
    }
    // The probe loaded it once; nothing was started again for the failed requests.
    expect((await readFile(project.path('loads.log'), 'utf8')).trim().split('\n')).toEqual(['load']);
    expect(await (await server.fetch('/healthy')).text()).toBe('ok');
  });

  it('says a module that calls process.exit() while loading did so, without piscina internals', async () => {
    const project = await createProject({
      'config.yaml': CONFIG,
      'functions/healthy.ts': HEALTHY,
      'functions/fragile.ts': 'if (!process.env.API_KEY) process.exit(3);\nexport default () => "never";\n',
    });
    const server = await startRuntime({ cwd: project.dir, mode: 'dev' });
    const response = await server.fetch('/fragile');
    expect(response.status).toBe(503);
    const error = await errorOf(response);
    expect(error.message).toBe('fragile failed to load: Error: its thread exited with code 3 while loading the module (process.exit?)');
    expect(error.stack).toBeUndefined();
    expect(await (await server.fetch('/healthy')).text()).toBe('ok');
  });

  it('pauses a function whose fresh threads keep crashing after loading, instead of respawning them in a loop', async () => {
    const project = await createProject({
      'config.yaml': CONFIG,
      'functions/healthy.ts': HEALTHY,
      // Loads fine, then crashes its thread a moment later: an 'error' event nobody listens to.
      'functions/fragile.ts': [
        'import { appendFileSync } from "node:fs";',
        'appendFileSync(new URL("../loads.log", import.meta.url), "load\\n");',
        'setTimeout(() => { throw new Error("connect ECONNREFUSED 127.0.0.1:5432"); }, 50);',
        'export default () => "fine for now";',
      ].join('\n'),
    });
    const server = await startRuntime({ cwd: project.dir });
    const pauses = () => server.logs.lines.filter((line) => line.includes('no new threads for')).length;
    await waitFor(() => pauses() >= 1, { what: 'the first pause' });
    const response = await server.fetch('/fragile');
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    const error = await errorOf(response);
    expect(error.code).toBe('FNGATE_UNAVAILABLE');
    expect(error.message).toMatch(
      /^fragile is paused: its threads crashed 3 times in 10 s outside any request \(last: Error: connect ECONNREFUSED 127\.0\.0\.1:5432\); retrying in \d+ s$/,
    );
    // After the pause it tries again, crashes again, and pauses for longer (2 s).
    await waitFor(() => pauses() >= 2, { what: 'the second pause', timeoutMs: 15_000 });
    expect(server.logs.text()).toMatch(/no new threads for 2 s/);
    // Two rounds of about three crashes each, not a busy loop.
    const loads = (await readFile(project.path('loads.log'), 'utf8')).trim().split('\n').length;
    expect(loads).toBeLessThanOrEqual(10);
    expect(await (await server.fetch('/healthy')).text()).toBe('ok');
  });
});
