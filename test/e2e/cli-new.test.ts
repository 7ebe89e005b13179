import { readFile, symlink } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { REPO, runCli, waitForReady } from '../helpers/cli.js';
import { createProject, type TempProject } from '../helpers/project.js';

const CONFIG = `# my project: keep this comment
defaults:
  maxThreads: 2      # aligned comment
functions:
  hello:                      # says hello
    routes: GET /hello
`;

async function project(): Promise<TempProject> {
  const created = await createProject({ 'config.yaml': CONFIG, 'functions/hello.ts': 'export default () => "hello";\n' });
  // The template imports types from 'fngate'; the project resolves it through the repo's modules.
  await symlink(`${REPO}/node_modules`, created.path('node_modules'));
  return created;
}

describe('fngate new', () => {
  it('writes functions/NAME.ts and adds NAME to config.yaml, keeping every existing line as it was', async () => {
    const dir = await project();
    const cli = runCli(['new', 'thumb', '--route', 'POST /thumb', '--route', 'GET /thumb/:id'], { cwd: dir.dir });
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toContain('created functions/thumb.ts, added thumb to config.yaml (POST /thumb, GET /thumb/:id)');
    const config = await readFile(dir.path('config.yaml'), 'utf8');
    expect(config.startsWith(CONFIG)).toBe(true);
    expect(config.slice(CONFIG.length)).toBe('\n  thumb:\n    file: functions/thumb.ts\n    routes: [POST /thumb, GET /thumb/:id]\n');
    expect(await readFile(dir.path('functions/thumb.ts'), 'utf8')).toContain("import type { Handler } from 'fngate';");
  });

  it('creates a function that serves at once: fngate start answers its route', async () => {
    const dir = await project();
    expect(await runCli(['new', 'greet'], { cwd: dir.dir }).exited).toBe(0);
    const server = runCli(['start', '--port', '0'], { cwd: dir.dir });
    const url = await waitForReady(server);
    const response = await fetch(`${url}/greet?x=1`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ function: 'greet', method: 'GET', path: '/greet', params: {}, query: { x: '1' } });
  });

  it('refuses to overwrite an existing file, and changes nothing', async () => {
    const dir = await project();
    await dir.write('functions/taken.ts', 'export default () => "mine";\n');
    const cli = runCli(['new', 'taken'], { cwd: dir.dir });
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toContain('functions/taken.ts already exists; not overwriting it');
    expect(await readFile(dir.path('functions/taken.ts'), 'utf8')).toBe('export default () => "mine";\n');
    expect(await readFile(dir.path('config.yaml'), 'utf8')).toBe(CONFIG);
  });

  it('refuses an existing name, a claimed route and an invalid name', async () => {
    const dir = await project();
    const existing = runCli(['new', 'hello'], { cwd: dir.dir });
    expect(await existing.exited).toBe(1);
    expect(existing.stderr()).toContain('a function "hello" already exists');
    const claimed = runCli(['new', 'other', '--route', 'GET /hello'], { cwd: dir.dir });
    expect(await claimed.exited).toBe(1);
    expect(claimed.stderr()).toContain('route "GET /hello" is already claimed by hello');
    const invalid = runCli(['new', '9lives'], { cwd: dir.dir });
    expect(await invalid.exited).toBe(1);
    expect(invalid.stderr()).toContain('invalid function name "9lives"');
    expect(await readFile(dir.path('config.yaml'), 'utf8')).toBe(CONFIG);
  });
});
