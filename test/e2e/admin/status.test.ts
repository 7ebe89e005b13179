import { describe, expect, it } from 'vitest';
import type { FunctionStatus, StatusReport } from '../../../runtime/observe/status-report.js';
import { fixtureConfig } from '../../helpers/fixtures.js';
import { createProject } from '../../helpers/project.js';
import { startRuntime, type StartedRuntime } from '../../helpers/runtime.js';
import { waitFor } from '../../helpers/wait.js';

async function statusOf(server: StartedRuntime, fn: string): Promise<FunctionStatus> {
  const response = await server.fetch('/_fngate/status');
  expect(response.status).toBe(200);
  const report = (await response.json()) as StatusReport;
  const found = report.functions.find((f) => f.name === fn);
  if (found === undefined) throw new Error(`no ${fn} in status`);
  return found;
}

describe('GET /_fngate/status', () => {
  it('counts answers by status and error code, with run-time percentiles and the last error', async () => {
    const server = await startRuntime({ config: fixtureConfig('basics'), mode: 'dev' });
    for (let i = 0; i < 3; i++) expect((await server.fetch('/inspect')).status).toBe(200);
    expect((await server.fetch('/throws')).status).toBe(500);

    const inspect = await statusOf(server, 'inspect');
    expect(inspect).toMatchObject({
      file: 'functions/inspect.ts',
      routes: ['ANY /inspect', 'ANY /inspect/:a/:b?'],
      state: 'serving',
      problem: null,
      version: 1,
      threads: { min: 0, max: 1 },
      queue: { length: 0, max: 64 },
      requests: { completed: 3, failed: {}, byStatus: { '200': 3 } },
    });
    expect(inspect.latency.run).toMatchObject({ count: 3 });
    expect(inspect.latency.run!.p99).toBeGreaterThanOrEqual(inspect.latency.run!.p50);
    expect(inspect.requests.perSecond).toBeGreaterThan(0);

    const throws = await statusOf(server, 'throws');
    expect(throws.requests).toMatchObject({ completed: 0, failed: { FNGATE_FUNCTION_ERROR: 1 }, byStatus: { '500': 1 } });
    expect(throws.lastErrors[0]).toMatchObject({ code: 'FNGATE_FUNCTION_ERROR', status: 500 });
    expect(throws.lastErrors[0]!.message).toContain('cannot total order 7');
    // A failure has no queue/run split, but counts in the total clients waited.
    expect(throws.latency).toMatchObject({ queue: null, run: null, total: { count: 1 } });
    expect(inspect.latency.total).toMatchObject({ count: 3 });

    const report = (await (await server.fetch('/_fngate/status')).json()) as StatusReport;
    expect(report.fngate).toMatchObject({ mode: 'dev', pid: process.pid });
    expect(report.fngate.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(report.functions.map((f) => f.name)).toEqual(Object.keys(server.runtime.config.functions));
  });

  it("reports answered requests' thread time and their threads' peak heap, and a recommendation once 100 were answered", async () => {
    const server = await startRuntime({ config: fixtureConfig('basics'), mode: 'dev' });
    for (let i = 0; i < 99; i++) expect((await server.fetch('/inspect')).status).toBe(200);
    const early = await statusOf(server, 'inspect');
    expect(early.usage.cpuMs).toBeGreaterThan(0);
    expect(early.usage.runMs).toBeGreaterThan(0);
    expect(early.usage.lastMinutes).toMatchObject({ answered: 99, failed: 0 });
    // The V8 heap of a thread that loaded a bundle: a few MB at least, far below any limit.
    expect(early.usage.lastMinutes!.peakHeapBytes).toBeGreaterThan(1024 * 1024);
    expect(early.usage.lastMinutes!.peakHeapBytes).toBeLessThan(512 * 1024 * 1024);
    expect(early.recommendation).toBeNull();

    expect((await server.fetch('/inspect')).status).toBe(200);
    const advice = (await statusOf(server, 'inspect')).recommendation;
    // Which kind a handler is, from so few requests on a shared machine, is for the unit tests.
    expect(advice).toMatchObject({ basis: 'traffic', warnings: [] });
    expect(advice!.yaml).toMatch(/^inspect:\n  maxThreads: \d+\n  concurrency: (auto|\d+)\n  memoryLimit: \d+mb\n  timeout: \d+s\n$/);
    expect(advice!.reasons.maxThreads.length).toBeGreaterThan(0);
  });

  it('shows busy threads and the queue while requests wait for a thread', async () => {
    const server = await startRuntime({ config: fixtureConfig('basics'), mode: 'dev' });
    // limited: maxThreads 1, concurrency 1, maxQueue 1.
    const requests = [server.fetch('/limited?ms=1500'), server.fetch('/limited?ms=10')];
    const busy = await waitFor(
      async () => {
        const status = await statusOf(server, 'limited');
        return status.running === 1 && status.queue.length === 1 && status.threads.busy === 1 ? status : undefined;
      },
      { what: 'one running and one queued request' },
    );
    expect(busy.threads).toMatchObject({ alive: 1, busy: 1, max: 1 });
    await Promise.all(requests);
    const after = await statusOf(server, 'limited');
    expect(after).toMatchObject({ running: 0, queue: { length: 0 }, requests: { completed: 2 } });
    expect(after.latency.queue!.max).toBeGreaterThan(after.latency.queue!.p50 - 1);
  });

  it('records reloads: a good save brings version 2, a broken one is counted as failed and version 2 keeps serving', async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  greet:\n    routes: GET /greet\n',
      'functions/greet.ts': 'export default () => "one";\n',
    });
    const server = await startRuntime({ config: project.path('config.yaml'), watch: true });
    await project.write('functions/greet.ts', 'export default () => "two";\n');
    await waitFor(async () => (await (await server.fetch('/greet')).text()) === 'two', { what: 'version 2' });
    const reloaded = await statusOf(server, 'greet');
    expect(reloaded).toMatchObject({ version: 2, reloads: 1, lastReload: { ok: true, version: 2, error: null } });
    expect(reloaded.lastReload!.ms).toBeGreaterThan(0);

    await project.write('functions/greet.ts', 'export default () => {{ "three";\n');
    const broken = await waitFor(
      async () => {
        const status = await statusOf(server, 'greet');
        return status.reloads === 2 ? status : undefined;
      },
      { what: 'the failed reload' },
    );
    expect(broken).toMatchObject({ version: 2, state: 'serving', lastReload: { ok: false, version: null } });
    expect(broken.lastReload!.error).toContain('failed to build');
    expect(await (await server.fetch('/greet')).text()).toBe('two');
  });

  it('reports a function that never built as unavailable, with the build error', async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  broken:\n    routes: GET /broken\n  fine:\n    routes: GET /fine\n',
      'functions/broken.ts': 'export default () => {{;\n',
      'functions/fine.ts': 'export default () => "fine";\n',
    });
    const server = await startRuntime({ config: project.path('config.yaml'), mode: 'dev' });
    expect((await server.fetch('/broken')).status).toBe(503);
    const broken = await statusOf(server, 'broken');
    expect(broken).toMatchObject({ state: 'unavailable', version: null, threads: { alive: 0 }, requests: { failed: { FNGATE_UNAVAILABLE: 1 } } });
    expect(broken.problem).toMatch(/broken failed to build: functions\/broken\.ts:\d+:\d+: Unexpected end of file/);
    expect((await statusOf(server, 'fine')).state).toBe('serving');
  });
});
