import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixtureConfig } from '../helpers/fixtures.js';
import { runCli, waitForReady } from '../helpers/cli.js';
import { createProject } from '../helpers/project.js';
import { waitFor } from '../helpers/wait.js';
import { errorOf, startRuntime } from '../helpers/runtime.js';

const config = fixtureConfig('basics');

describe('env isolation', () => {
  beforeEach(() => {
    process.env.FNGATE_TEST_PARENT_SECRET = 'do-not-leak';
  });
  afterEach(() => {
    delete process.env.FNGATE_TEST_PARENT_SECRET;
  });

  it('gives a function exactly its declared env plus NODE_ENV, in ctx.env and process.env', async () => {
    const { fetch } = await startRuntime({ config });
    const seen = (await (await fetch('/inspect')).json()) as { env: Record<string, string>; processEnv: Record<string, string> };
    expect(seen.env).toEqual({ GREETING: 'hello', SHARED_NAME: 'inspect-only' });
    expect(Object.keys(seen.processEnv).sort()).toEqual(['GREETING', 'NODE_ENV', 'SHARED_NAME']);
  });

  it("hides the parent's variables and other functions' variables, also from child processes", async () => {
    const { fetch } = await startRuntime({ config });
    const seen = (await (await fetch('/other')).json()) as Record<string, string | null>;
    expect(seen.otherOnly).toBe('1');
    expect(seen.greeting).toBeNull();
    expect(seen.parentSecret).toBeNull();
    expect(JSON.parse(seen.childEnv!)).toEqual(['NODE_ENV', 'OTHER_ONLY']);
  });
});

// Ways around the env isolation that used to work from a handler: each must fail with a clear
// error before it reads anything of the gateway's.
const BYPASSES = {
  // spawn_sync without envPairs runs the child with the live environment of the whole process.
  'functions/spawn-binding.ts': `
export default () => {
  const result = (process as any).binding('spawn_sync').spawn({
    file: '/usr/bin/env', args: ['env'], windowsHide: false,
    stdio: [{ type: 'pipe', readable: true, writable: false }, { type: 'pipe', readable: false, writable: true }, { type: 'pipe', readable: false, writable: true }],
  });
  return String(result.output?.[1] ?? result.error);
};
`,
  // An inspector session on the gateway thread evaluates code there.
  'functions/main-thread.ts': `
import { Session } from 'node:inspector';
export default () => new Promise((resolve, reject) => {
  const session = new Session();
  session.connectToMainThread();
  session.post('Runtime.evaluate', { expression: 'JSON.stringify(process.env)' }, (error, result) => error ? reject(error) : resolve(result.result.value));
});
`,
  // A session on the function's own thread finds the binding in the scopes of Node's spawnSync.
  'functions/own-thread.ts': `
import { Session } from 'node:inspector';
export default () => {
  const session = new Session();
  session.connect();
  return 'connected';
};
`,
  // The process-wide debugger: its main-thread target is the gateway thread.
  'functions/open-debugger.ts': `
import inspector from 'node:inspector';
export default () => {
  inspector.open(0);
  return String(inspector.url());
};
`,
  // A thread of its own with Node's internals exposed reaches the same binding.
  'functions/nested-internals.ts': `
import { Worker } from 'node:worker_threads';
export default () => new Promise((resolve, reject) => {
  const code = "const { internalBinding } = require('internal/test/binding'); const r = internalBinding('spawn_sync').spawn({ file: '/usr/bin/env', args: ['env'], stdio: [{ type: 'pipe', readable: true, writable: false }, { type: 'pipe', readable: false, writable: true }, { type: 'pipe', readable: false, writable: true }] }); require('worker_threads').parentPort.postMessage(String(r.output[1]));";
  const worker = new Worker(code, { eval: true, execArgv: ['--expose-internals', '--no-warnings'] });
  worker.once('message', resolve);
  worker.once('error', reject);
});
`,
};

describe('env isolation against bypasses', () => {
  beforeEach(() => {
    process.env.FNGATE_TEST_PARENT_SECRET = 'do-not-leak';
  });
  afterEach(() => {
    delete process.env.FNGATE_TEST_PARENT_SECRET;
  });

  async function bypassProject() {
    const config = Object.keys(BYPASSES)
      .map((file) => /functions\/(.+)\.ts/.exec(file)![1]!)
      .map((name) => `  ${name}:\n    routes: GET /${name}\n`)
      .join('');
    const project = await createProject({ 'config.yaml': `functions:\n${config}`, ...BYPASSES });
    return startRuntime({ cwd: project.dir, mode: 'dev' });
  }

  it.each([
    ['spawn-binding', /process\.binding\(\) is not available to fngate functions/],
    ['main-thread', /inspector Session\.connectToMainThread\(\) is not available to fngate functions/],
    ['nested-internals', /--expose-internals is not available to fngate functions/],
    ['own-thread', /inspector Session\.connect\(\) is not available to fngate functions/],
    ['open-debugger', /inspector\.open\(\) is not available to fngate functions/],
  ])('refuses %s with a clear error, before it reads the parent environment', async (name, message) => {
    const server = await bypassProject();
    const response = await server.fetch(`/${name}`);
    const body = await response.text();
    expect(body).not.toContain('do-not-leak');
    expect(response.status).toBe(500);
    const error = await errorOf(new Response(body));
    expect(error.code).toBe('FNGATE_FUNCTION_ERROR');
    expect(error.message).toMatch(message);
  });
});

describe('the debugger on a signal', () => {
  it('is not opened when function code sends the process SIGUSR1, which would expose the gateway thread', async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  signal:\n    routes: GET /signal\n',
      'functions/signal.ts': 'export default () => { process.kill(process.pid, "SIGUSR1"); return "sent"; };\n',
    });
    const cli = runCli(['start', '--port', '0'], { cwd: project.dir });
    const url = await waitForReady(cli);
    expect(await (await fetch(`${url}/signal`)).text()).toBe('sent');
    // Node opens its debugger on SIGUSR1 only when no listener takes the signal.
    await waitFor(() => cli.stderr().includes('SIGUSR1 ignored'), { what: 'the SIGUSR1 note' });
    expect(cli.stderr()).not.toContain('Debugger listening');
  });
});
