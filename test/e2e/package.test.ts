import { execFile, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { READY_LINE, REPO } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const exec = promisify(execFile);
const made: string[] = [];
afterEach(async () => {
  for (const dir of made.splice(0)) {
    await exec('chmod', ['-R', 'u+w', dir]).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
});

/** What a user's shell would have: no variables of this test run (VITEST, NODE_OPTIONS...). */
const ENV = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), NO_COLOR: '1', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };

async function run(command: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await exec(command, args, { cwd, env: ENV, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}\n${stderr ?? ''}`);
  }
}

/** Every file under dir with its size and modification time: what "nothing wrote here" compares. */
async function snapshot(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return Promise.all(
    entries.filter((entry) => entry.isFile()).map(async (entry) => {
      const file = join(entry.parentPath, entry.name);
      const info = await stat(file);
      return `${file}:${info.size}:${info.mtimeMs}`;
    }),
  ).then((lines) => lines.sort());
}

describe('the npm package', () => {
  // Packs a copy of the repository (npm pack there runs prepack, which rebuilds dist/: never in
  // the repository itself, where other tests run the CLI from dist/), installs the tarball into
  // a new project outside the repository, and uses it as a new user would.
  it('installs from its tarball into a new project where init, npm test, tsc and a read-only fngate start all work', { timeout: 300_000 }, async () => {
    const work = await mkdtemp(join(tmpdir(), 'fngate-package-'));
    made.push(work);
    const source = join(work, 'source');
    await mkdir(source);
    const files = (await run('git', ['ls-files', '-co', '--exclude-standard'], REPO)).split('\n').filter(Boolean);
    await run('tar', ['-cf', join(work, 'source.tar'), ...files], REPO);
    await run('tar', ['-xf', join(work, 'source.tar'), '-C', source], work);
    await symlink(join(REPO, 'node_modules'), join(source, 'node_modules'));
    const packed = JSON.parse(await run('npm', ['pack', '--json', '--pack-destination', work], source)) as [{ filename: string; size: number; files: { path: string }[] }];
    const tarball = join(work, packed[0].filename);

    // Only what users run: the built runtime with its types, the worker entry, the schema, README, LICENSE.
    const paths = packed[0].files.map((file) => file.path);
    for (const expected of ['dist/index.js', 'dist/index.d.ts', 'dist/testing.js', 'dist/testing.d.ts', 'dist/cli.bundle.js', 'dist/worker/worker-entry.mjs', 'dist/worker/task-handler.js', 'dist/gateway/dashboard.html', 'runtime/bin.js', 'fngate.schema.json', 'README.md', 'LICENSE', 'package.json']) {
      expect(paths).toContain(expected);
    }
    expect(paths.filter((path) => /^(test|functions|scripts)\/|^config\.yaml$|\.map$|\.ts$/.test(path) && !path.endsWith('.d.ts'))).toEqual([]);
    expect(packed[0].size).toBeLessThan(600 * 1024);

    // A new project, outside the repository: nothing resolves through the repository's node_modules.
    const app = join(work, 'app');
    await mkdir(app);
    await run('npm', ['init', '-y'], app);
    await run('npm', ['install', tarball], app);
    // The API works before any CLI run (nothing is compiled on first use).
    const api = await run(process.execPath, ['--input-type=module', '-e', "const m = await import('fngate'); const t = await import('fngate/testing'); console.log(typeof m.createRuntime, typeof t.startFunctions);"], app);
    expect(api.trim()).toBe('function function');

    const fngate = join(app, 'node_modules', '.bin', 'fngate');
    const init = await run(fngate, ['init'], app);
    expect(init).toContain('created config.yaml');
    await run('npm', ['install'], app);
    const tests = await run('npm', ['test'], app);
    expect(tests).toMatch(/Tests\s+2 passed/);
    await run(process.execPath, [join(app, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit'], app);

    // tune runs from the installed package: its load generator (autocannon) is a dependency.
    const tuned = JSON.parse(await run(fngate, ['tune', 'hello', '--duration', '0.5s', '--max-threads', '1', '--json'], app)) as { recommendation: { basis: string } };
    expect(tuned.recommendation.basis).toBe('load test');

    // fngate start with its own package made read-only (root ignores the mode bits: the snapshot
    // proves that nothing was written there either way).
    const installed = join(app, 'node_modules', 'fngate');
    const before = await snapshot(installed);
    await exec('chmod', ['-R', 'a-w', installed]);
    const server = spawn(fngate, ['start', '--port', '0'], { cwd: app, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    server.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    server.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    try {
      const url = await waitFor(() => {
        if (server.exitCode !== null) throw new Error(`fngate start exited:\n${out}`);
        return READY_LINE.exec(out)?.[1];
      }, { what: 'the ready line', timeoutMs: 30_000 });
      expect(await (await fetch(`${url}/hello/ada`)).text()).toBe('hello ada');
    } finally {
      server.kill('SIGTERM');
      await new Promise((resolve) => server.once('exit', resolve));
    }
    await chmod(installed, 0o755);
    expect(await snapshot(installed)).toEqual(before);
  });
});
