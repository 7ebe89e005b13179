import { writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createProject } from '../helpers/project.js';
import { startRuntime } from '../helpers/runtime.js';
import { waitFor } from '../helpers/wait.js';

describe('heavy and light routes', () => {
  it('answers every light request while a heavy function keeps all its threads busy and more requests queued', async () => {
    // `heavy` blocks its thread (a busy loop, never yielding) until the test creates a file:
    // every light answer below provably arrives while both heavy threads are blocked.
    const project = await createProject({
      'config.yaml': 'functions:\n  heavy:\n    routes: GET /heavy\n    maxThreads: 2\n  light:\n    routes: GET /light/:n\n',
      'functions/heavy.ts':
        'import { existsSync } from "node:fs";\nexport default (req: Request) => {\n  const flag = new URL(req.url).searchParams.get("until")!;\n  while (!existsSync(flag)) {}\n  return "done";\n};\n',
      'functions/light.ts': 'export default (req: Request, ctx: { params: { n: string } }) => `light ${ctx.params.n}`;\n',
    });
    const server = await startRuntime({ cwd: project.dir });
    const flag = project.path('release');
    const heavy = Array.from({ length: 4 }, () => server.fetch(`/heavy?until=${encodeURIComponent(flag)}`));
    const state = () => server.runtime.functions().find((fn) => fn.name === 'heavy')!;
    await waitFor(() => state().running === 2 && state().queued === 2, { what: 'two heavy requests running and two queued' });

    for (let i = 0; i < 20; i++) {
      const light = await server.fetch(`/light/${i}`);
      expect(await light.text()).toBe(`light ${i}`);
    }
    // Still blocked: nothing could release them yet.
    expect(state()).toMatchObject({ running: 2, queued: 2 });

    await writeFile(flag, '');
    const answers = await Promise.all(heavy.map(async (response) => (await response).text()));
    expect(answers).toEqual(['done', 'done', 'done', 'done']);
  });
});
