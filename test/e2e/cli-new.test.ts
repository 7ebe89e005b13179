import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, symlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO, runCli, waitForReady } from '../helpers/cli.js';
import { createProject, type TempProject } from '../helpers/project.js';
import { waitFor } from '../helpers/wait.js';

const CONFIG = `# my project: keep this comment
defaults:
  maxThreads: 2      # aligned comment
functions:
  hello:                      # says hello
    routes: GET /hello
`;
const HELLO = 'export default () => "hello";\n';
const execFileAsync = promisify(execFile);

async function project(): Promise<TempProject> {
  return createProject({ 'config.yaml': CONFIG, 'functions/hello.ts': HELLO });
}

/** `fngate new ARGS --config <project>/config.yaml`, run from the repository; resolves when it exits. */
async function fngateNew(dir: TempProject, ...args: string[]) {
  const cli = runCli(['new', ...args, '--config', dir.path('config.yaml')]);
  const code = await cli.exited;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

describe('fngate new', () => {
  it('writes functions/NAME.ts from the template and adds NAME to config.yaml with GET /NAME', async () => {
    const dir = await project();
    const result = await fngateNew(dir, 'greet');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`created ${dir.path('functions/greet.ts')}, added greet to ${dir.path('config.yaml')} (GET /greet)`);
    expect(await readFile(dir.path('functions/greet.ts'), 'utf8')).toContain("import type { Handler } from 'fngate';");
    const config = await readFile(dir.path('config.yaml'), 'utf8');
    expect(config.slice(CONFIG.length)).toBe('  greet:\n    file: functions/greet.ts\n    routes: GET /greet\n');
  });

  it('starts a project: in a directory without config.yaml it writes one with the function, and it serves', async () => {
    const dir = await createProject({});
    const cli = runCli(['new', 'hello'], { cwd: dir.dir });
    expect(await cli.exited, cli.stderr()).toBe(0);
    expect(cli.stdout()).toContain('created functions/hello.ts, created config.yaml with hello (GET /hello)');
    // The first line points editors at the schema in the installed package.
    expect(await readFile(dir.path('config.yaml'), 'utf8')).toMatch(/^# yaml-language-server: \$schema=\.\/node_modules\/fngate\/fngate\.schema\.json\n# fngate: .*\nfunctions:\n {2}hello:\n {4}file: functions\/hello\.ts\n {4}routes: GET \/hello\n$/s);
    const server = runCli(['start', '--port', '0'], { cwd: dir.dir });
    const url = await waitForReady(server);
    expect(await (await fetch(`${url}/hello`)).json()).toMatchObject({ function: 'hello', path: '/hello' });
  });

  it('adds the first function to a config.yaml whose functions map is still empty, keeping its comments', async () => {
    const dir = await createProject({ 'config.yaml': '# mine\nserver:\n  port: 4000\nfunctions: {}   # none yet\n' });
    const result = await fngateNew(dir, 'first');
    expect(result.code, result.stderr).toBe(0);
    expect(await readFile(dir.path('config.yaml'), 'utf8')).toBe(
      '# mine\nserver:\n  port: 4000\nfunctions: # none yet\n  first:\n    file: functions/first.ts\n    routes: GET /first\n',
    );
  });

  it('refuses a route that could match requests of an existing function', async () => {
    const dir = await project();
    const result = await fngateNew(dir, 'other', '--route', 'GET /hello/:rest?');
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('fngate: route "GET /hello/:rest?" is already claimed by function "hello" (GET /hello)\n');
    expect(existsSync(dir.path('functions/other.ts'))).toBe(false);
  });

  it('prints paths relative to the working directory when run inside the project', async () => {
    const dir = await project();
    const cli = runCli(['new', 'greet'], { cwd: dir.dir });
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toContain('created functions/greet.ts, added greet to config.yaml (GET /greet)');
  });

  it('keeps the comments and formatting of the rest of config.yaml', async () => {
    const dir = await project();
    expect((await fngateNew(dir, 'greet')).code).toBe(0);
    const config = await readFile(dir.path('config.yaml'), 'utf8');
    expect(config.split('\n')).toContain('# my project: keep this comment');
    expect(config.startsWith(CONFIG)).toBe(true);
  });

  it('writes several --route options as one flow list', async () => {
    const dir = await project();
    const result = await fngateNew(dir, 'thumb', '--route', 'POST /thumb', '--route', 'GET /thumb/:id');
    expect(result.code, result.stderr).toBe(0);
    const config = await readFile(dir.path('config.yaml'), 'utf8');
    expect(config.slice(CONFIG.length)).toBe('  thumb:\n    file: functions/thumb.ts\n    routes: [POST /thumb, GET /thumb/:id]\n');
  });

  it('creates a function that fngate start serves on its route', async () => {
    const dir = await project();
    expect((await fngateNew(dir, 'thumb', '--route', 'GET /thumb/:id')).code).toBe(0);
    const server = runCli(['start', '--port', '0', '--config', dir.path('config.yaml')]);
    const url = await waitForReady(server);
    const response = await fetch(`${url}/thumb/7?size=small`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ function: 'thumb', method: 'GET', path: '/thumb/7', params: { id: '7' }, query: { size: 'small' } });
  });

  it('adds a function that a running fngate dev serves without a restart', async () => {
    const dir = await project();
    const server = runCli(['dev', '--port', '0', '--quiet', '--config', dir.path('config.yaml')]);
    const url = await waitForReady(server);
    expect((await fetch(`${url}/greet`)).status).toBe(404);
    expect((await fngateNew(dir, 'greet')).code).toBe(0);
    const response = await waitFor(async () => {
      const attempt = await fetch(`${url}/greet`);
      return attempt.status === 200 && attempt;
    }, { what: 'GET /greet to answer 200' });
    expect(await response.json()).toMatchObject({ function: 'greet', path: '/greet' });
  });

  it('writes a file that type-checks under the repository tsconfig, with fngate installed as a package', async () => {
    const dir = await project();
    expect((await fngateNew(dir, 'thumb', '--route', 'GET /thumb/:id')).code).toBe(0);
    await dir.write('package.json', '{ "type": "module" }\n');
    await dir.write('tsconfig.json', JSON.stringify({
      extends: `${REPO}/tsconfig.json`,
      compilerOptions: { typeRoots: [`${REPO}/node_modules/@types`] },
      include: ['functions/thumb.ts'],
      exclude: [],
    }));
    await mkdir(dir.path('node_modules'));
    await symlink(REPO, dir.path('node_modules/fngate'), 'dir');
    const tsc = await execFileAsync(process.execPath, [`${REPO}/node_modules/typescript/bin/tsc`, '-p', dir.path('tsconfig.json')], { timeout: 60_000 })
      .then(() => ({ code: 0, stdout: '' }), (error: { code: number; stdout: string }) => error);
    expect(tsc.code, tsc.stdout).toBe(0);
  });

  it('refuses to overwrite an existing functions/NAME.ts and changes nothing', async () => {
    const dir = await project();
    await dir.write('functions/taken.ts', 'export default () => "mine";\n');
    const result = await fngateNew(dir, 'taken');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^fngate: .*functions\/taken\.ts already exists; not overwriting it\n$/);
    expect(await readFile(dir.path('functions/taken.ts'), 'utf8')).toBe('export default () => "mine";\n');
    expect(await readFile(dir.path('config.yaml'), 'utf8')).toBe(CONFIG);
  });

  it('refuses a name config.yaml already has and changes nothing', async () => {
    const dir = await project();
    const result = await fngateNew(dir, 'hello');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^fngate: a function "hello" already exists in /);
    expect(await readFile(dir.path('functions/hello.ts'), 'utf8')).toBe(HELLO);
    expect(await readFile(dir.path('config.yaml'), 'utf8')).toBe(CONFIG);
  });

  it('rejects a name config.yaml would not accept', async () => {
    const dir = await project();
    const result = await fngateNew(dir, '9lives');
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('fngate: invalid function name "9lives": expected a function name: a letter, then letters, digits, "-" or "_"\n');
    expect(existsSync(dir.path('functions/9lives.ts'))).toBe(false);
    expect(await readFile(dir.path('config.yaml'), 'utf8')).toBe(CONFIG);
  });

  it('rejects a malformed route', async () => {
    const dir = await project();
    const result = await fngateNew(dir, 'thumb', '--route', 'FETCH /thumb');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('fngate: invalid route "FETCH /thumb": unknown method "FETCH"');
    expect(existsSync(dir.path('functions/thumb.ts'))).toBe(false);
  });

  it('refuses a route another function already claims', async () => {
    const dir = await project();
    const result = await fngateNew(dir, 'other', '--route', 'GET /hello');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('fngate: route "GET /hello" is already claimed by function "hello"');
    expect(existsSync(dir.path('functions/other.ts'))).toBe(false);
    expect(await readFile(dir.path('config.yaml'), 'utf8')).toBe(CONFIG);
  });

  it('refuses to add to an invalid config.yaml, quoting its problems', async () => {
    const dir = await project();
    const invalid = CONFIG.replace('maxThreads: 2', 'maxThread: 2');
    await dir.write('config.yaml', invalid);
    const result = await fngateNew(dir, 'greet');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('defaults.maxThread: unknown key (did you mean "maxThreads"?)');
    expect(existsSync(dir.path('functions/greet.ts'))).toBe(false);
    expect(await readFile(dir.path('config.yaml'), 'utf8')).toBe(invalid);
  });
});
