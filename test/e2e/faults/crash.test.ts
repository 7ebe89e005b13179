import { describe, expect, it } from 'vitest';
import { fixtureConfig } from '../../helpers/fixtures.js';
import { createProject } from '../../helpers/project.js';
import { errorOf, expectHealthy, startRuntime } from '../../helpers/runtime.js';
import { waitFor } from '../../helpers/wait.js';

const config = fixtureConfig('faults');

describe('fault: worker crash', () => {
  const cases: [mode: string, message: RegExp][] = [
    ['exit', /^the worker thread exited with code 7 \(process\.exit\?\); it was replaced$/],
    ['timer', /^the worker thread crashed: Error: thrown from a timer; it was replaced$/],
    ['rejection', /^the worker thread crashed: Error: a rejection nobody handles; it was replaced$/],
  ];
  for (const [mode, message] of cases) {
    it(`answers 502 FNGATE_WORKER_CRASHED when the handler's thread dies (${mode}), then serves on a new thread`, async () => {
      const server = await startRuntime({ config });
      const before = (await (await server.fetch('/crash?mode=ok')).json()) as { threadId: number };
      const response = await server.fetch(`/crash?mode=${mode}`);
      expect(response.status).toBe(502);
      const error = await errorOf(response);
      expect(error.code).toBe('FNGATE_WORKER_CRASHED');
      expect(error.function).toBe('crash');
      expect(error.message).toMatch(message);
      const after = await server.fetch('/crash?mode=ok');
      expect(after.status).toBe(200);
      expect(((await after.json()) as { threadId: number }).threadId).not.toBe(before.threadId);
      await expectHealthy(server);
    });
  }
});

describe('fault: process.exit after the response', () => {
  // Answers first, then ends its thread from work that outlives the response.
  const EXITER = `
import type { Handler } from 'fngate';
const exiter: Handler = (req, ctx) => {
  const mode = new URL(req.url).searchParams.get('mode');
  if (mode === 'wait-until') ctx.waitUntil(new Promise((resolve) => setTimeout(resolve, 20)).then(() => process.exit(3)));
  if (mode === 'timer') setTimeout(() => process.exit(4), 20);
  return 'answered';
};
export default exiter;
`;

  it.each([
    ['wait-until', 3],
    ['timer', 4],
  ])('logs process.exit in %s work after the response, naming the function', async (mode, code) => {
    const project = await createProject({ 'config.yaml': 'functions:\n  exiter:\n    routes: GET /exiter\n', 'functions/exiter.ts': EXITER });
    const server = await startRuntime({ cwd: project.dir });
    const response = await server.fetch(`/exiter?mode=${mode}`);
    expect(await response.text()).toBe('answered');
    const line = await waitFor(() => server.logs.lines.find((l) => l.includes(`process.exit(${code})`)), { what: 'the exit to be logged' });
    expect(line).toMatch(new RegExp(`^\\[exiter\\] a thread called process\\.exit\\(${code}\\) outside any request`));
    // A request that races the exit may still land on the dying thread (502); a new thread serves.
    await waitFor(async () => (await (await server.fetch('/exiter')).text()) === 'answered', { what: 'a new thread to serve' });
  });

  it('counts such exits as crashes: threads that keep exiting pause the function instead of being respawned in a loop', async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  exiter:\n    routes: GET /exiter\n',
      // Loads, answers its warm-up, and ends its thread a moment later, every time.
      'functions/exiter.ts': 'setTimeout(() => process.exit(5), 50);\nexport default () => "fine for now";\n',
    });
    const server = await startRuntime({ cwd: project.dir });
    await waitFor(() => server.logs.lines.some((line) => line.includes('no new threads for')), { what: 'the pause' });
    const error = await errorOf(await server.fetch('/exiter'));
    expect(error.code).toBe('FNGATE_UNAVAILABLE');
    expect(error.message).toMatch(/^exiter is paused: its threads crashed 3 times in 10 s outside any request \(last: process\.exit\(5\)\)/);
  });
});
