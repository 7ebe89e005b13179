import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { startFunctions } from '../../runtime/testing.js';
import { runCli, waitForReady } from '../helpers/cli.js';
import { createProject, type TempProject } from '../helpers/project.js';
import { errorOf, startRuntime, type StartedRuntime } from '../helpers/runtime.js';
import { waitFor } from '../helpers/wait.js';

/** Lines a function appended to `file` in the project (one JSON value each). */
async function linesOf(project: TempProject, file: string): Promise<unknown[]> {
  if (!existsSync(project.path(file))) return [];
  return (await readFile(project.path(file), 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as unknown);
}

/** Appends its argument as a JSON line to runs.log in the project directory. */
const RECORD = `import { appendFileSync } from 'node:fs';
const record = (value: unknown) => appendFileSync(new URL('../runs.log', import.meta.url), JSON.stringify(value) + '\\n');
`;

const scheduleOf = (server: StartedRuntime, name: string) => server.runtime.status().functions.find((fn) => fn.name === name)!.schedule!;

describe('scheduled functions', () => {
  it("calls a fetch-style module's scheduled(controller, env, ctx) every second, with the cron, the due time and its declared env", async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  tick:\n    schedule: "* * * * * *"\n    env: { REGION: eu }\n',
      'functions/tick.ts': `${RECORD}export default {
  async scheduled(controller: { cron: string; scheduledTime: number; type: string }, env: { REGION: string }, ctx: { requestId: string }) {
    record({ cron: controller.cron, time: controller.scheduledTime, type: controller.type, region: env.REGION, id: ctx.requestId });
  },
};
`,
    });
    const server = await startRuntime({ cwd: project.dir });
    const runs = (await waitFor(async () => {
      const lines = await linesOf(project, 'runs.log');
      return lines.length >= 2 && lines;
    }, { what: 'two scheduled runs' })) as { cron: string; time: number; type: string; region: string; id: string }[];
    expect(runs[0]).toMatchObject({ cron: '* * * * * *', type: 'scheduled', region: 'eu' });
    expect(runs[0]!.time % 1000).toBe(0);
    expect(runs[1]!.time - runs[0]!.time).toBe(1000);
    expect(runs[0]!.id).not.toBe(runs[1]!.id);
    await waitFor(() => scheduleOf(server, 'tick').runs >= 2, { what: 'the status to count the runs' });
    expect(scheduleOf(server, 'tick')).toMatchObject({ cron: '* * * * * *', timezone: 'UTC', failures: 0, skipped: 0, lastRun: { ok: true } });
  });

  it('gives a Lambda handler an EventBridge scheduled event', async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  nightly:\n    schedule: "* * * * * *"\n',
      'functions/nightly.ts': `${RECORD}export const handler = async (event: unknown, context: { functionName: string }) => { record({ event, fn: context.functionName }); };\n`,
    });
    await startRuntime({ cwd: project.dir });
    const [first] = (await waitFor(async () => {
      const lines = await linesOf(project, 'runs.log');
      return lines.length >= 1 && lines;
    }, { what: 'a scheduled run' })) as { event: Record<string, unknown>; fn: string }[];
    expect(first!.fn).toBe('nightly');
    expect(first!.event).toMatchObject({
      version: '0',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      region: 'local',
      resources: ['arn:aws:events:local:000000000000:rule/nightly'],
      detail: {},
    });
    expect(first!.event.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('gives a plain handler a POST /_fngate/scheduled request with the cron in a header and ctx.scheduled, next to its routes', async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  web:\n    routes: GET /web\n    schedule: "* * * * * *"\n',
      'functions/web.ts': `${RECORD}export default (req: Request, ctx: { scheduled?: { cron: string } }) => {
  if (ctx.scheduled) record({ method: req.method, path: new URL(req.url).pathname, header: req.headers.get('x-fngate-cron'), cron: ctx.scheduled.cron });
  return 'page';
};
`,
    });
    const { fetch } = await startRuntime({ cwd: project.dir });
    expect(await (await fetch('/web')).text()).toBe('page');
    const [run] = await waitFor(async () => {
      const lines = await linesOf(project, 'runs.log');
      return lines.length >= 1 && lines;
    }, { what: 'a scheduled run' });
    expect(run).toEqual({ method: 'POST', path: '/_fngate/scheduled', header: '* * * * * *', cron: '* * * * * *' });
  });

  it('skips a run that is due while the previous one still goes on, never runs two at once, and counts and logs the skip', async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  slow:\n    routes: GET /max\n    schedule: "* * * * * *"\n    maxThreads: 2\n    sharedMemory: 8\n',
      'functions/slow.ts': `export default {
  fetch: (_req: Request, _env: unknown, ctx: { shared: SharedArrayBuffer }) => Response.json({ max: Atomics.load(new Int32Array(ctx.shared), 1) }),
  async scheduled(_c: unknown, _env: unknown, ctx: { shared: SharedArrayBuffer }) {
    const cells = new Int32Array(ctx.shared);
    const now = Atomics.add(cells, 0, 1) + 1;
    if (now > Atomics.load(cells, 1)) Atomics.store(cells, 1, now);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    Atomics.sub(cells, 0, 1);
  },
};
`,
    });
    const server = await startRuntime({ cwd: project.dir });
    await waitFor(() => scheduleOf(server, 'slow').skipped >= 2 && scheduleOf(server, 'slow').runs >= 1, { what: 'skipped runs', timeoutMs: 30_000 });
    expect(((await (await server.fetch('/max')).json()) as { max: number }).max).toBe(1);
    expect(server.logs.text()).toMatch(/⏭ slow: skipped the run due at .*: the run started at .* is still going \(runs never overlap; schedule "\* \* \* \* \* \*"\)/);
  });

  it('counts and logs a failed run in status and Prometheus metrics, with the last run and its duration', async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  broken:\n    schedule: "* * * * * *"\n',
      'functions/broken.ts': 'export const scheduled = () => { throw new Error("no database"); };\n',
    });
    const server = await startRuntime({ cwd: project.dir, mode: 'dev' });
    await waitFor(() => scheduleOf(server, 'broken').failures >= 1, { what: 'a failed run' });
    const schedule = scheduleOf(server, 'broken');
    expect(schedule.lastRun).toMatchObject({ ok: false, error: 'FNGATE_FUNCTION_ERROR: Error: no database', manual: false });
    expect(schedule.lastRun!.ms).toBeGreaterThan(0);
    expect(Date.parse(schedule.nextRun!)).toBeGreaterThan(Date.parse(schedule.lastRun!.at));
    expect(server.logs.text()).toMatch(/✘ broken: the scheduled run due at \S+ failed after [\d.]+ ms: FNGATE_FUNCTION_ERROR: Error: no database/);
    const metrics = await (await server.fetch('/_fngate/metrics')).text();
    expect(metrics).toMatch(/^fngate_scheduled_runs_total\{function="broken",result="error"\} [1-9]/m);
    expect(metrics).toMatch(/^fngate_scheduled_last_duration_seconds\{function="broken"\} \d/m);
    expect(metrics).toMatch(/^fngate_scheduled_next_run_timestamp_seconds\{function="broken"\} \d+/m);
  });

  it('runs it now on POST /_fngate/trigger/NAME behind the admin token: 200 with its duration, 409 while a run goes on, 404 without a schedule', async () => {
    const project = await createProject({
      'config.yaml':
        'server:\n  admin: { token: secret }\nfunctions:\n  job:\n    schedule: "0 0 1 1 *"\n  hello:\n    routes: GET /hello\n',
      'functions/job.ts': `${RECORD}export const scheduled = async (controller: { scheduledTime: number }) => { record(controller.scheduledTime); await new Promise((r) => setTimeout(r, 300)); };\n`,
      'functions/hello.ts': 'export default () => "hi";\n',
    });
    const server = await startRuntime({ cwd: project.dir, mode: 'dev' });
    const auth = { authorization: 'Bearer secret' };
    expect((await server.fetch('/_fngate/trigger/job', { method: 'POST' })).status).toBe(401);
    const first = server.fetch('/_fngate/trigger/job', { method: 'POST', headers: auth });
    await waitFor(async () => (await linesOf(project, 'runs.log')).length === 1, { what: 'the run to start' });
    const busy = await server.fetch('/_fngate/trigger/job', { method: 'POST', headers: auth });
    expect(busy.status).toBe(409);
    expect((await errorOf(busy)).code).toBe('FNGATE_ALREADY_RUNNING');
    const done = await first;
    expect(done.status).toBe(200);
    expect(await done.json()).toMatchObject({ function: 'job', ok: true, ms: expect.any(Number) });
    expect(scheduleOf(server, 'job')).toMatchObject({ runs: 1, lastRun: { ok: true, manual: true } });
    const none = await server.fetch('/_fngate/trigger/hello', { method: 'POST', headers: auth });
    expect(none.status).toBe(404);
    expect((await errorOf(none)).message).toBe('hello has no schedule (config.yaml schedule:)');
    expect((await server.fetch('/_fngate/trigger/job', { headers: auth })).status).toBe(405);
  });

  it('answers POST /_fngate/trigger/NAME with the run’s own error when it fails', async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  job:\n    schedule: "0 0 1 1 *"\n    timeout: 300ms\n',
      'functions/job.ts': 'export const scheduled = () => new Promise(() => {});\n',
    });
    const server = await startRuntime({ cwd: project.dir, mode: 'dev' });
    const response = await server.fetch('/_fngate/trigger/job', { method: 'POST' });
    expect(response.status).toBe(504);
    expect((await errorOf(response)).code).toBe('FNGATE_TIMEOUT');
  });

  it('follows a changed cron expression in config.yaml without a restart', async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  job:\n    schedule: "0 0 1 1 *"\n',
      'functions/job.ts': `${RECORD}export const scheduled = (c: { cron: string }) => record(c.cron);\n`,
    });
    const server = await startRuntime({ cwd: project.dir, watch: true, mode: 'dev' });
    expect(Date.parse(scheduleOf(server, 'job').nextRun!)).toBeGreaterThan(Date.now() + 60_000);
    await project.write('config.yaml', 'functions:\n  job:\n    schedule: "* * * * * *"\n    timezone: Europe/Berlin\n');
    await waitFor(async () => (await linesOf(project, 'runs.log')).includes('* * * * * *'), { what: 'the new schedule to run' });
    expect(scheduleOf(server, 'job')).toMatchObject({ cron: '* * * * * *', timezone: 'Europe/Berlin' });
    expect(server.logs.text()).toContain('config: ~job schedule "0 0 1 1 *"->"* * * * * *" Europe/Berlin');
  });

  it('lets a run going on at shutdown finish within shutdownTimeout, and starts none after', async () => {
    const project = await createProject({
      'config.yaml': 'server: { shutdownTimeout: 10s }\nfunctions:\n  job:\n    schedule: "* * * * * *"\n',
      'functions/job.ts': `${RECORD}export const scheduled = async (c: { scheduledTime: number }) => {
  record({ start: c.scheduledTime });
  await new Promise((r) => setTimeout(r, 1500));
  record({ end: c.scheduledTime });
};
`,
    });
    const server = await startRuntime({ cwd: project.dir });
    await waitFor(() => scheduleOf(server, 'job').runningSince !== null, { what: 'a run to be going on' });
    await server.runtime.close();
    const lines = (await linesOf(project, 'runs.log')) as { start?: number; end?: number }[];
    const starts = lines.flatMap((line) => (line.start === undefined ? [] : [line.start]));
    const ends = lines.flatMap((line) => (line.end === undefined ? [] : [line.end]));
    expect(ends).toEqual(starts);
    expect(scheduleOf(server, 'job').nextRun).toBeNull();
  });

  it('fngate trigger NAME runs it once and exits 0, or 1 when the run fails', async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  good:\n    schedule: "0 3 * * *"\n  bad:\n    schedule: "0 3 * * *"\n  web:\n    routes: GET /web\n',
      'functions/good.ts': 'export const scheduled = (c: { cron: string }) => console.log(`cleaned up (${c.cron})`);\n',
      'functions/bad.ts': 'export const scheduled = () => { throw new Error("disk full"); };\n',
      'functions/web.ts': 'export default () => "web";\n',
    });
    const good = runCli(['trigger', 'good'], { cwd: project.dir });
    expect(await good.exited).toBe(0);
    expect(good.stdout()).toMatch(/^✔ good: triggered run done in [\d.]+ ms \(schedule "0 3 \* \* \*"\)$/m);
    expect(good.stderr()).toContain('[good] cleaned up (0 3 * * *)');
    const bad = runCli(['trigger', 'bad'], { cwd: project.dir });
    expect(await bad.exited).toBe(1);
    expect(bad.stderr()).toMatch(/✘ bad: the triggered run failed after [\d.]+ ms: FNGATE_FUNCTION_ERROR: Error: disk full/);
    const web = runCli(['trigger', 'web'], { cwd: project.dir });
    expect(await web.exited).toBe(1);
    expect(web.stderr()).toContain('web has no schedule');
  });

  it('fngate dev shows each schedule with its next run time', async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  nightly:\n    schedule: "0 3 * * *"\n    timezone: America/New_York\n',
      'functions/nightly.ts': 'export const scheduled = () => {};\n',
    });
    const cli = runCli(['dev', '--port', '0'], { cwd: project.dir });
    await waitForReady(cli);
    expect(cli.stdout()).toMatch(/^ {2}nightly +1-\d+ +64 +30 s +schedule "0 3 \* \* \*" \(America\/New_York\), next \d{4}-\d\d-\d\d (0[78]|08):00:00Z$/m);
  });
});

describe('scheduled functions under fngate/testing', () => {
  it('runs them only when the test triggers them, unless asked to follow the clock', async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  job:\n    schedule: "* * * * * *"\n',
      'functions/job.ts': `${RECORD}export const scheduled = (c: { scheduledTime: number }) => record(c.scheduledTime);\n`,
    });
    const server = await startFunctions({ cwd: project.dir });
    try {
      expect(server.runtime.functions()[0]!.schedule).toMatchObject({ cron: '* * * * * *', nextRun: null });
      const run = await server.runtime.trigger('job');
      expect(run).toMatchObject({ failure: null, manual: true });
      expect(await linesOf(project, 'runs.log')).toHaveLength(1);
    } finally {
      await server.close();
    }
    const clocked = await startFunctions({ cwd: project.dir, schedules: true });
    try {
      await waitFor(async () => (await linesOf(project, 'runs.log')).length >= 2, { what: 'a run by the clock' });
    } finally {
      await clocked.close();
    }
  });
});
