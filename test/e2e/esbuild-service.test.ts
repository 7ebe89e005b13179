import { chmod, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { runCli, waitForReady } from '../helpers/cli.js';
import { createProject, type TempProject } from '../helpers/project.js';
import { waitFor } from '../helpers/wait.js';

/** The esbuild binary the esbuild package would start. */
const REAL_ESBUILD = createRequire(import.meta.url).resolve(`@esbuild/${process.platform}-${process.arch}/bin/esbuild`);

/**
 * A project whose esbuild service is `script` (a shell script standing in for the binary, via
 * ESBUILD_BINARY_PATH): it can die at start, or record its pid and become the real one.
 */
async function projectWithService(script: string): Promise<{ project: TempProject; env: Record<string, string> }> {
  const project = await createProject({
    'config.yaml': 'functions:\n  hello:\n    routes: GET /hello\n',
    'functions/hello.ts': 'export default () => "hello";\n',
  });
  await writeFile(project.path('esbuild.sh'), `#!/bin/sh\n${script.replaceAll('REAL', REAL_ESBUILD).replaceAll('DIR', project.dir)}\n`);
  await chmod(project.path('esbuild.sh'), 0o755);
  return { project, env: { ESBUILD_BINARY_PATH: project.path('esbuild.sh') } };
}

describe('the esbuild service dying', () => {
  it('starts a new service and builds again when it dies during fngate start', async () => {
    // Dies the first time it is started, works after.
    const { project, env } = await projectWithService('if [ ! -e DIR/died ]; then : > DIR/died; exit 1; fi\nexec REAL "$@"');
    const cli = runCli(['start', '--port', '0'], { cwd: project.dir, env });
    const url = await waitForReady(cli);
    expect(await (await fetch(`${url}/hello`)).text()).toBe('hello');
  });

  it('says so when the service keeps dying, and fngate start keeps serving instead of crashing', async () => {
    const { project, env } = await projectWithService('exit 1');
    const cli = runCli(['start', '--port', '0'], { cwd: project.dir, env });
    const url = await waitForReady(cli);
    const response = await fetch(`${url}/hello`);
    expect(response.status).toBe(503);
    const { error } = (await response.json()) as { error: { message: string } };
    expect(error.message).toMatch(/^hello failed to build: the esbuild service died twice while building functions\/hello\.ts \(killed, or out of memory\?\): The service (was stopped|is no longer running)/);
    expect(cli.child.exitCode).toBeNull();
    expect(cli.stderr()).not.toMatch(/unhandled/i);
  });

  it('builds the next save in fngate dev after the service was killed', async () => {
    const { project, env } = await projectWithService('echo $$ >> DIR/service.pids\nexec REAL "$@"');
    const cli = runCli(['dev', '--port', '0'], { cwd: project.dir, env });
    const url = await waitForReady(cli);
    const pid = Number((await readFile(project.path('service.pids'), 'utf8')).trim().split('\n')[0]);
    process.kill(pid, 'SIGKILL');
    await waitFor(() => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, { what: 'the esbuild service to be gone' });
    await project.write('functions/hello.ts', 'export default () => "hello again";\n');
    await waitFor(async () => (await (await fetch(`${url}/hello`)).text()) === 'hello again', { what: 'the save to be served' });
    expect(cli.stdout() + cli.stderr()).not.toContain('no longer running');
  });
});
