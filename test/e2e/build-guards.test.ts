import { execFileSync } from 'node:child_process';
import { mkdir, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createProject } from '../helpers/project.js';
import { errorOf, startRuntime, type StartedRuntime } from '../helpers/runtime.js';

const CONFIG = 'defaults: { minThreads: 0, maxThreads: 1 }\nfunctions:\n  good:\n    routes: GET /good\n  bad:\n    routes: GET /bad\n';

async function projectWithBad(badSource: string, extra: Record<string, string> = {}) {
  return createProject({ 'config.yaml': CONFIG, 'functions/good.ts': 'export default () => "good";', 'functions/bad.ts': badSource, ...extra });
}

/** `bad` answers 503 with a message matching `message`, and `good` still serves. */
async function expectRefused(server: StartedRuntime, message: RegExp): Promise<void> {
  const response = await server.fetch('/bad');
  expect(response.status).toBe(503);
  const error = await errorOf(response);
  expect(error.code).toBe('FNGATE_UNAVAILABLE');
  expect(error.message).toMatch(message);
  expect(await (await server.fetch('/good')).text()).toBe('good');
}

describe('what a build may read', () => {
  it('refuses an absolute import of a file in a node_modules directory that is not the project’s', async () => {
    const elsewhere = join(tmpdir(), `fngate-elsewhere-${process.pid}-${Date.now()}`);
    await mkdir(join(elsewhere, 'node_modules'), { recursive: true });
    await writeFile(join(elsewhere, 'node_modules', 'secret.js'), 'export default "from elsewhere";\n');
    try {
      const project = await projectWithBad(`import secret from ${JSON.stringify(join(elsewhere, 'node_modules', 'secret.js'))};\nexport default () => secret;\n`);
      const server = await startRuntime({ cwd: project.dir });
      await expectRefused(server, /^bad failed to build: functions\/bad\.ts:1:\d+: imports \/.*\/node_modules\/secret\.js, which lies outside the project directory/);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it('still bundles packages from a node_modules that is a symlink to another directory', async () => {
    const shared = join(tmpdir(), `fngate-shared-modules-${process.pid}-${Date.now()}`);
    await mkdir(join(shared, 'left-pad-esm'), { recursive: true });
    await writeFile(join(shared, 'left-pad-esm', 'package.json'), JSON.stringify({ name: 'left-pad-esm', version: '1.0.0', type: 'module', main: 'index.js' }));
    await writeFile(join(shared, 'left-pad-esm', 'index.js'), 'export default (s, n) => String(s).padStart(n, "0");\n');
    try {
      const project = await projectWithBad('import pad from "left-pad-esm";\nexport default () => pad(7, 3);\n');
      await symlink(shared, project.path('node_modules'), 'dir');
      const server = await startRuntime({ cwd: project.dir });
      expect(await (await server.fetch('/bad')).text()).toBe('007');
    } finally {
      await rm(shared, { recursive: true, force: true });
    }
  });

  it('refuses a project file that links to a device without reading it, and starts', async () => {
    const project = await projectWithBad('import zero from "./zero.js";\nexport default () => String(zero);\n');
    await symlink('/dev/zero', project.path('functions/zero.js'));
    const server = await startRuntime({ cwd: project.dir });
    await expectRefused(server, /^bad failed to build: functions\/bad\.ts:1:\d+: imports \/dev\/zero, which lies outside the project directory/);
  });

  it('refuses an imported FIFO without waiting for a writer, and starts', async () => {
    const project = await projectWithBad('import data from "./pipe.js";\nexport default () => String(data);\n');
    execFileSync('mkfifo', [project.path('functions/pipe.js')]);
    const server = await startRuntime({ cwd: project.dir });
    await expectRefused(server, /functions\/pipe\.js is a FIFO \(named pipe\), not a regular file/);
  });

  it('starts when an input of a cached bundle has become a FIFO: the cache does not wait for a writer', async () => {
    const project = await projectWithBad('import data from "./data.js";\nexport default () => data;\n', { 'functions/data.js': 'export default "cached";\n' });
    const first = await startRuntime({ cwd: project.dir });
    expect(await (await first.fetch('/bad')).text()).toBe('cached');
    await first.runtime.close();
    await unlink(project.path('functions/data.js'));
    execFileSync('mkfifo', [project.path('functions/data.js')]);
    const second = await startRuntime({ cwd: project.dir });
    await expectRefused(second, /functions\/data\.js is a FIFO \(named pipe\), not a regular file/);
  });
});
