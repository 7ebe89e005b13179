import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { createProject } from '../helpers/project.js';

const FILES = ['package.json', 'tsconfig.json', '.gitignore', 'config.yaml', 'functions/hello.ts', 'test/hello.test.ts'];

describe('fngate init', () => {
  it('writes a whole project into a new directory and says what to run next', async () => {
    const parent = await createProject({});
    const cli = runCli(['init', 'my-app'], { cwd: parent.dir });
    expect(await cli.exited, cli.stderr()).toBe(0);
    for (const file of FILES) expect(cli.stdout()).toContain(`created my-app/${file}`);
    expect(cli.stdout()).toMatch(/next:\n {2}cd my-app\n {2}npm install\n {2}npm run dev/);
    const pkg = JSON.parse(await readFile(parent.path('my-app/package.json'), 'utf8'));
    expect(pkg).toMatchObject({
      name: 'my-app',
      type: 'module',
      scripts: { dev: 'fngate dev', start: 'fngate start', test: 'vitest run', typecheck: 'tsc --noEmit' },
      dependencies: { fngate: expect.stringMatching(/^\^\d+\.\d+\.\d+/) },
      devDependencies: { vitest: expect.any(String), typescript: expect.any(String), '@types/node': expect.any(String) },
    });
    expect(await readFile(parent.path('my-app/config.yaml'), 'utf8')).toMatch(/^# yaml-language-server: \$schema=\.\/node_modules\/fngate\/fngate\.schema\.json\n/);
    expect((await readFile(parent.path('my-app/.gitignore'), 'utf8')).split('\n')).toEqual(expect.arrayContaining(['node_modules/', '.fngate/', 'dist/', '.env.local']));
    expect(await readFile(parent.path('my-app/test/hello.test.ts'), 'utf8')).toContain("from 'fngate/testing'");
  });

  it('keeps every file that exists, and adds to package.json and .gitignore only what they lack', async () => {
    const dir = await createProject({
      'package.json': JSON.stringify({ name: 'mine', type: 'commonjs', scripts: { test: 'node --test' }, dependencies: { fngate: 'file:../fngate.tgz' } }),
      '.gitignore': 'node_modules\n.env',
      'tsconfig.json': '{ "compilerOptions": { "strict": false } }\n',
    });
    const cli = runCli(['init'], { cwd: dir.dir });
    expect(await cli.exited, cli.stderr()).toBe(0);
    const pkg = JSON.parse(await readFile(dir.path('package.json'), 'utf8'));
    // Its own test script and its fngate dependency stay; the rest is added; "commonjs" becomes "module".
    expect(pkg).toMatchObject({ name: 'mine', type: 'module', scripts: { test: 'node --test', dev: 'fngate dev' }, dependencies: { fngate: 'file:../fngate.tgz' } });
    expect(cli.stdout()).toContain('"type": "module" (was "commonjs": rename CommonJS files of yours to .cjs)');
    expect(cli.stdout()).toContain('kept tsconfig.json: it exists');
    expect(await readFile(dir.path('tsconfig.json'), 'utf8')).toBe('{ "compilerOptions": { "strict": false } }\n');
    expect(await readFile(dir.path('.gitignore'), 'utf8')).toBe('node_modules\n.env\n.fngate/\ndist/\n.env.local\n');

    // A second run changes nothing.
    const again = runCli(['init'], { cwd: dir.dir });
    expect(await again.exited).toBe(0);
    expect(again.stdout()).not.toMatch(/created|updated/);
  });

  it('leaves an existing config.yaml and its functions alone: no example function or test is added', async () => {
    const dir = await createProject({ 'config.yaml': 'functions:\n  mine:\n    routes: GET /mine\n', 'functions/mine.ts': 'export default () => "mine";\n' });
    const cli = runCli(['init'], { cwd: dir.dir });
    expect(await cli.exited, cli.stderr()).toBe(0);
    expect(cli.stdout()).toContain('kept config.yaml: it exists');
    expect(cli.stdout()).not.toContain('hello');
  });

  it("replaces npm init's placeholder test script", async () => {
    const dir = await createProject({ 'package.json': JSON.stringify({ name: 'x', scripts: { test: 'echo "Error: no test specified" && exit 1' } }) });
    const cli = runCli(['init'], { cwd: dir.dir });
    expect(await cli.exited, cli.stderr()).toBe(0);
    expect(JSON.parse(await readFile(dir.path('package.json'), 'utf8')).scripts.test).toBe('vitest run');
  });

  it('refuses a package.json that is not JSON, changing nothing', async () => {
    const dir = await createProject({ 'package.json': '{ "name": ' });
    const cli = runCli(['init'], { cwd: dir.dir });
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toMatch(/^fngate init: package\.json is not valid JSON/);
    expect(await readFile(dir.path('package.json'), 'utf8')).toBe('{ "name": ');
  });
});
