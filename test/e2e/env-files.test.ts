import { statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../runtime/index.js';
import { startFunctions, type TestServer } from '../../runtime/testing.js';
import { build } from '../helpers/built-server.js';
import { runCli } from '../helpers/cli.js';
import { createProject } from '../helpers/project.js';
import { startRuntime } from '../helpers/runtime.js';
import { waitFor } from '../helpers/wait.js';

/** Answers its env as config.yaml gave it, what process.env holds of `names`, and a per-thread call count. */
const ENV_ECHO = `let calls = 0;
export default (_req: Request, ctx: { env: Record<string, string> }) => ({ env: ctx.env, process: { API_KEY: process.env.API_KEY, REGION: process.env.REGION }, calls: ++calls });
`;

const CONFIG = `functions:
  api:
    file: functions/echo.ts
    routes: GET /api
    env: { API_KEY: "\${API_KEY}", REGION: "\${REGION:-eu}" }
  plain:
    file: functions/echo.ts
    routes: GET /plain
`;

type Answer = { env: Record<string, string>; process: Record<string, string | undefined>; calls: number };
const json = async (response: Response) => (await response.json()) as Answer;

let testServer: TestServer | undefined;
afterEach(async () => {
  await testServer?.close();
  testServer = undefined;
});

describe('.env files', () => {
  it('fills ${VAR} in config.yaml from .env next to it, with .env.local overriding it in dev', async () => {
    const project = await createProject({ 'config.yaml': CONFIG, 'functions/echo.ts': ENV_ECHO, '.env': 'API_KEY=from-env\nREGION=us\n', '.env.local': 'API_KEY="from local"\n' });
    const { fetch } = await startRuntime({ cwd: project.dir, mode: 'dev' });
    expect((await json(await fetch('/api'))).env).toEqual({ API_KEY: 'from local', REGION: 'us' });
  });

  it('reads .env but not .env.local in start mode', async () => {
    const project = await createProject({ 'config.yaml': CONFIG, 'functions/echo.ts': ENV_ECHO, '.env': 'API_KEY=from-env\n', '.env.local': 'API_KEY=from-local\n' });
    const { fetch } = await startRuntime({ cwd: project.dir, mode: 'start' });
    expect((await json(await fetch('/api'))).env).toEqual({ API_KEY: 'from-env', REGION: 'eu' });
  });

  it('lets a variable of the process win over both files', async () => {
    const name = `FNGATE_TEST_${process.pid}`;
    const project = await createProject({
      'config.yaml': `functions:\n  api:\n    file: functions/echo.ts\n    routes: GET /api\n    env: { API_KEY: "\${${name}}" }\n`,
      'functions/echo.ts': ENV_ECHO,
      '.env': `${name}=from-file\n`,
      '.env.local': `${name}=from-local\n`,
    });
    process.env[name] = 'from-process';
    try {
      const { fetch } = await startRuntime({ cwd: project.dir, mode: 'dev' });
      expect((await json(await fetch('/api'))).env.API_KEY).toBe('from-process');
    } finally {
      delete process.env[name];
    }
  });

  it('gives a value only to the functions that declare it: never to process.env of the others', async () => {
    const project = await createProject({ 'config.yaml': CONFIG, 'functions/echo.ts': ENV_ECHO, '.env': 'API_KEY=secret\nREGION=us\n' });
    const { fetch } = await startRuntime({ cwd: project.dir });
    expect(await json(await fetch('/api'))).toMatchObject({ process: { API_KEY: 'secret', REGION: 'us' } });
    expect(await json(await fetch('/plain'))).toMatchObject({ env: {}, process: {} });
  });

  it('refuses to start on a malformed line, naming the file and line, with Node’s parsing of the rest (quotes, export, multi-line values)', async () => {
    const project = await createProject({
      'config.yaml': CONFIG,
      'functions/echo.ts': ENV_ECHO,
      '.env': '# keys\nexport API_KEY=a\nCERT="-----BEGIN-----\nnot a = line\n-----END-----"\nREGION = eu # comment\nthis line has no equals sign\n',
    });
    const error = await startRuntime({ cwd: project.dir }).catch((error: unknown) => error);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((problem) => `${problem.file}:${problem.line}`)).toEqual(['.env:7']);
    expect((error as ConfigError).message).toContain('expected NAME=value (or a # comment), got "this line has no equals sign"');
  });

  it('reloads in dev only the functions whose values changed when .env is edited', async () => {
    const project = await createProject({
      'config.yaml': `${CONFIG}  other:\n    file: functions/echo.ts\n    routes: GET /other\n    env: { REGION: "\${REGION}" }\n`,
      'functions/echo.ts': ENV_ECHO,
      '.env': 'API_KEY=one\nREGION=us\n',
    });
    const { fetch, runtime, logs } = await startRuntime({ cwd: project.dir, watch: true, mode: 'dev' });
    await fetch('/other');
    expect((await json(await fetch('/other'))).calls).toBe(2);
    await project.write('.env', 'API_KEY=two\nREGION=us\n');
    await waitFor(async () => (await json(await fetch('/api'))).env.API_KEY === 'two', { what: 'the new API_KEY' });
    await runtime.reloadsSettled();
    expect(logs.text()).toContain('.env: ~api env ~API_KEY');
    // Its value did not change: same pool, same module state.
    expect((await json(await fetch('/other'))).calls).toBe(3);
  });

  it('applies a .env.local created while fngate dev runs', async () => {
    const project = await createProject({ 'config.yaml': CONFIG, 'functions/echo.ts': ENV_ECHO, '.env': 'API_KEY=one\n' });
    const { fetch } = await startRuntime({ cwd: project.dir, watch: true, mode: 'dev' });
    await project.write('.env.local', 'API_KEY=mine\n');
    await waitFor(async () => (await json(await fetch('/api'))).env.API_KEY === 'mine', { what: '.env.local to apply' });
  });

  it('keeps the running config in dev when an edit makes .env malformed, and says where', async () => {
    const project = await createProject({ 'config.yaml': CONFIG, 'functions/echo.ts': ENV_ECHO, '.env': 'API_KEY=one\n' });
    const { fetch, logs } = await startRuntime({ cwd: project.dir, watch: true, mode: 'dev' });
    await project.write('.env', 'API_KEY=two\noops\n');
    await waitFor(() => logs.text().includes('.env:2: expected NAME=value'), { what: 'the problem to be printed' });
    expect(logs.text()).toContain('✘ config not applied (still serving the previous config)');
    expect((await json(await fetch('/api'))).env.API_KEY).toBe('one');
  });

  it('is read by fngate/testing as by fngate dev', async () => {
    const project = await createProject({ 'config.yaml': CONFIG, 'functions/echo.ts': ENV_ECHO, '.env': 'API_KEY=for-tests\n' });
    testServer = await startFunctions({ cwd: project.dir });
    expect((await json(await testServer.fetch('/api'))).env.API_KEY).toBe('for-tests');
  });

  it('is read by fngate invoke', async () => {
    const project = await createProject({ 'config.yaml': CONFIG, 'functions/echo.ts': ENV_ECHO, '.env': 'API_KEY=invoked\n' });
    const cli = runCli(['invoke', 'api'], { cwd: project.dir });
    expect(await cli.exited).toBe(0);
    expect((JSON.parse(cli.stdout()) as Answer).env.API_KEY).toBe('invoked');
  });

  it('never goes into fngate build output: no .env file, no value of it in any file', async () => {
    const project = await createProject({ 'config.yaml': CONFIG, 'functions/echo.ts': ENV_ECHO, '.env': 'API_KEY=super-secret-value\n', '.env.local': 'REGION=local-only-value\n' });
    await build(project.path('config.yaml'), ['--out', project.path('out')]);
    const files = (await readdir(project.path('out'), { recursive: true })).map(String);
    expect(files.filter((file) => file.includes('.env'))).toEqual([]);
    for (const file of files) {
      const path = join(project.path('out'), file);
      if (!statSync(path).isFile()) continue;
      const text = await readFile(path, 'utf8');
      expect(text.includes('super-secret-value') || text.includes('local-only-value'), file).toBe(false);
    }
    expect(await readFile(project.path('out/config.yaml'), 'utf8')).toContain('${API_KEY}');
  });
});
