import { createHash } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { build, snapshot, startBuilt } from '../helpers/built-server.js';
import { runCli } from '../helpers/cli.js';
import { createProject } from '../helpers/project.js';

const DEMO_CONFIG = fileURLToPath(new URL('../../config.yaml', import.meta.url));

const made: string[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fngate-build-'));
  made.push(dir);
  return dir;
}

describe('fngate build', () => {
  it('builds the demo into a directory that serves every demo route from a copy outside the project, with only PORT set, writing nothing', async () => {
    const work = await tempDir();
    const stdout = await build(DEMO_CONFIG, ['--out', join(work, 'out')]);
    expect(stdout).toMatch(/^built 8 functions into .*out \([\d.]+ MB\) in \d+ ms$/m);
    // Anywhere else, with no node_modules above it and nothing in its environment but PORT.
    const app = join(work, 'elsewhere', 'app');
    await cp(join(work, 'out'), app, { recursive: true });
    const before = await snapshot(app);
    const server = await startBuilt(app, { PORT: '0' });
    const get = (path: string, init?: RequestInit) => fetch(`${server.url}${path}`, init);

    expect(await (await get('/hello/ada')).text()).toBe('hello ada');
    expect(((await (await get('/sort?size=1000')).json()) as { length: number }).length).toBe(1000);
    expect(await (await get('/echo', { method: 'POST', body: 'bytes' })).text()).toBe('bytes');
    const hash = createHash('sha256').update('abc').digest('hex');
    expect(await (await get('/hash?rounds=1', { method: 'POST', body: 'abc' })).json()).toMatchObject({ hex: hash });
    expect(await (await get('/api/users/1')).json()).toMatchObject({ id: '1' });
    expect((await get('/validate', { method: 'POST', body: '{"email":"a@b.co","name":"A"}', headers: { 'content-type': 'application/json' } })).status).toBe(200);
    // Shared memory: one count over every thread.
    const hits = async () => ((await (await get('/counter')).json()) as { hits: number }).hits;
    expect(await hits()).toBe(1);
    expect(await hits()).toBe(2);
    // Streaming: server-sent events as they are produced.
    expect(await (await get('/clock?ticks=2')).text()).toMatch(/^event: tick\ndata: \{"i":1,.*\n\nevent: tick\ndata: \{"i":2,/s);
    expect((await get('/_fngate/ready')).status).toBe(200);

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(await snapshot(app)).toEqual(before);
  });

  it('keeps ${VAR} references out of the output, reads them at start, and refuses to start without them', async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  lambda:\n    routes: GET /lambda\n    env: { API_KEY: "${API_KEY}" }\n',
      'functions/lambda.ts':
        'export const handler = async (event: { rawPath: string }) => ({ statusCode: 200, body: JSON.stringify({ path: event.rawPath, keyLength: (process.env.API_KEY ?? "").length }) });\n',
    });
    const work = await tempDir();
    await build(project.path('config.yaml'), ['--out', join(work, 'out')]);
    const config = await readFile(join(work, 'out', 'config.yaml'), 'utf8');
    expect(config).toContain('API_KEY: "${API_KEY}"');
    expect(config).toContain('file: functions/lambda.mjs');
    expect(await readdir(join(work, 'out'))).not.toContain('.env');

    const server = await startBuilt(join(work, 'out'), { PORT: '0', API_KEY: 'k-123456' });
    expect(await (await fetch(`${server.url}/lambda`)).json()).toEqual({ path: '/lambda', keyLength: 8 });
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);

    const missing = startBuilt(join(work, 'out'), { PORT: '0' });
    await expect(missing).rejects.toThrow(/functions\.lambda\.env\.API_KEY: references \$\{API_KEY\}, which is not set/);
  });

  it('reports a build error like dev does, exits 1, and leaves the previous output as it was', async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  good:\n    routes: GET /good\n  bad:\n    routes: GET /bad\n',
      'functions/good.ts': 'export default () => "good";\n',
      'functions/bad.ts': 'export default () => "fine";\n',
    });
    const work = await tempDir();
    const out = join(work, 'out');
    await build(project.path('config.yaml'), ['--out', out]);
    const before = await snapshot(out);
    await project.write('functions/bad.ts', 'export default () => {\n  return "unterminated;\n};\n');
    const cli = runCli(['build', '--config', project.path('config.yaml'), '--out', out]);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toContain('✘ bad failed to build: functions/bad.ts:2:');
    expect(cli.stderr()).toMatch(/^\s+2 │ +return "unterminated;$/m);
    expect(cli.stderr()).toContain('fngate build: nothing was written');
    expect(await snapshot(out)).toEqual(before);
    expect((await readdir(work)).sort()).toEqual(['out']);
  });

  it('never replaces a directory it did not make', async () => {
    const project = await createProject({ 'config.yaml': 'functions:\n  a:\n    routes: GET /a\n', 'functions/a.ts': 'export default () => "a";\n', 'mine/keep.txt': 'keep' });
    const cli = runCli(['build', '--config', project.path('config.yaml'), '--out', 'mine']);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toMatch(/mine exists and was not made by fngate build/);
    expect(await readFile(project.path('mine/keep.txt'), 'utf8')).toBe('keep');
  });
});
