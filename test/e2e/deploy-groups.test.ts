import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { build, startBuilt } from '../helpers/built-server.js';
import { createProject } from '../helpers/project.js';
import { startRuntime } from '../helpers/runtime.js';
import { waitFor } from '../helpers/wait.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const PROJECT = {
  'config.yaml': [
    'functions:',
    '  light:',
    '    routes: GET /light',
    '  heavy:',
    '    routes: [GET /heavy, POST /heavy]',
    '    deploy: { group: heavy }',
    '  ticks:',
    '    routes: GET /ticks',
    '    deploy: { group: batch }',
    '',
  ].join('\n'),
  'functions/light.ts': 'export default () => "light";\n',
  'functions/heavy.ts': [
    'export default async (req: Request) => {',
    '  if (new URL(req.url).searchParams.has("fail")) throw new Error("heavy failed");',
    '  if (req.method === "POST") return new Response(await req.text(), { headers: { "x-echo": "1", "set-cookie": "a=1" } });',
    '  return { heavy: true };',
    '};',
    '',
  ].join('\n'),
  'functions/ticks.ts': 'export default async function* () { yield "one\\n"; yield "two\\n"; }\n',
};

/** What a client sees of a response: status, the headers fngate sets, and the body. */
async function seen(response: Response): Promise<Record<string, unknown>> {
  const body = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    fn: response.headers.get('x-fngate-function'),
    timing: /^queue;dur=[\d.]+, run;dur=[\d.]+$/.test(response.headers.get('server-timing') ?? '') || response.headers.get('server-timing')?.startsWith('total;') === true,
    echo: response.headers.get('x-echo'),
    cookies: response.headers.getSetCookie(),
    body: response.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(body) : body,
  };
}

describe('deployment groups on one machine', () => {
  it('serves through the gateway exactly what the project serves unsplit: routing, bodies, headers and error codes', { timeout: 120_000 }, async () => {
    const project = await createProject(PROJECT);
    const dir = await mkdtemp(join(tmpdir(), 'fngate-groups-'));
    dirs.push(dir);
    await build(project.path('config.yaml'), ['--out', join(dir, 'app')]);
    const app = join(dir, 'app');
    const heavy = await startBuilt(app, { PORT: '0' }, ['--only', 'heavy']);
    const batch = await startBuilt(app, { PORT: '0' }, ['--only', 'batch']);
    const gateway = await startBuilt(app, { PORT: '0' }, ['--forward', `heavy=${heavy.url}`, '--forward', `batch=${batch.url}`]);
    // Printed after the ready line, perhaps on the other stream: waited for, not read at once.
    await waitFor(() => gateway.output().includes(`forwarding deployment group heavy to ${heavy.url}`), { what: 'the forwarding line' });
    // The group servers run only their own functions.
    expect((await fetch(`${heavy.url}/light`)).status).toBe(404);

    const local = await startRuntime({ cwd: project.dir, mode: 'start' });
    const requests: [string, RequestInit?][] = [
      ['/light'],
      ['/heavy'],
      ['/heavy', { method: 'POST', body: 'posted bytes' }],
      ['/heavy?fail=1'],
      ['/ticks'],
      ['/nowhere'],
      ['/light', { method: 'DELETE' }],
    ];
    for (const [path, init] of requests) {
      const split = await seen(await fetch(`${gateway.url}${path}`, init));
      const whole = await seen(await local.fetch(path, init));
      expect(split, `${init?.method ?? 'GET'} ${path}`).toEqual(whole);
    }
    expect(await seen(await fetch(`${gateway.url}/heavy?fail=1`))).toMatchObject({ status: 500, body: { error: { code: 'FNGATE_FUNCTION_ERROR', function: 'heavy' } } });

    // A group that does not answer: 503 naming it; the gateway's own functions go on.
    heavy.child.kill('SIGTERM');
    expect(await heavy.exited).toBe(0);
    const down = await fetch(`${gateway.url}/heavy`);
    expect(down.status).toBe(503);
    expect(((await down.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'FNGATE_UNAVAILABLE',
      message: expect.stringContaining('runs in deployment group "heavy"'),
    });
    expect(await (await fetch(`${gateway.url}/light`)).text()).toBe('light');
  });
});
