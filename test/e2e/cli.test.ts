import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { fixtureConfig } from '../helpers/fixtures.js';
import { createProject } from '../helpers/project.js';
import { READY_LINE, runCli, waitForReady } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const BASICS = fixtureConfig('basics');

describe('fngate CLI', () => {
  it('prints usage for --help and exits 0', async () => {
    const cli = runCli(['--help']);
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toMatch(/^Usage: fngate <command> \[options\]/);
    expect(cli.stdout()).toContain('--port N');
  });

  it('rejects an unknown command with usage and exit code 1', async () => {
    const cli = runCli(['serve']);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toMatch(/^fngate: unknown command "serve"/);
  });

  it('starts from any directory with --config, prints one ready line and the route table, and serves', async () => {
    const cli = runCli(['start', '--config', BASICS, '--port', '0'], { cwd: tmpdir() });
    const url = await waitForReady(cli);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(cli.stdout().match(new RegExp(READY_LINE.source, 'gm'))).toHaveLength(1);
    expect(cli.stdout()).toMatch(/fngate ready on http:\/\/127\.0\.0\.1:\d+ \(\d+ functions in \d+ ms/);
    expect(cli.stdout()).toMatch(/^\s+limited\s+0-1\s+1\s+5 s\s+GET \/limited$/m);
    const response = await fetch(`${url}/inspect/a`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { params: object }).params).toEqual({ a: 'a' });
  });

  it('honors the PORT environment variable', async () => {
    const port = await freePort();
    const cli = runCli(['start', '--config', BASICS], { env: { PORT: String(port) } });
    expect(await waitForReady(cli)).toBe(`http://127.0.0.1:${port}`);
  });

  it('on SIGTERM finishes the request in flight with 200, then exits 0', async () => {
    const cli = runCli(['start', '--config', BASICS, '--port', '0']);
    const url = await waitForReady(cli);
    const inFlight = fetch(`${url}/announce?ms=700`);
    await waitFor(() => cli.stdout().includes('announce: started'), { what: 'the request to start' });
    cli.child.kill('SIGTERM');
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('done after 700 ms');
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toContain('SIGTERM: finishing in-flight requests');
  });

  it('exits 1 before listening on an invalid config, printing every problem with its line', async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  hello:\n    routes: GET /hello\n    maxThreads: two\n  gone:\n    routes: GET /gone\n',
      'functions/hello.ts': 'export default () => "hi";',
    });
    const cli = runCli(['start', '--port', '0'], { cwd: project.dir });
    expect(await cli.exited).toBe(1);
    expect(cli.stdout()).not.toMatch(READY_LINE);
    expect(cli.stderr()).toContain('config.yaml:4 functions.hello.maxThreads: expected a positive integer, got "two"');
    expect(cli.stderr()).toContain('config.yaml:5 functions.gone: functions/gone.ts does not exist');
  });

  it('exits 1 with one clear line when the host is not an address of this machine', async () => {
    const cli = runCli(['start', '--config', BASICS, '--port', '0', '--host', '10.255.255.254']);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr().trim()).toBe('fngate: cannot listen on 10.255.255.254:0: the address is not one of this machine (EADDRNOTAVAIL)');
  });

  it('keeps serving, and exits 0 on SIGTERM, after the reader of its output went away (| head -1)', async () => {
    const cli = runCli(['dev', '--config', BASICS, '--port', '0']);
    const url = await waitForReady(cli);
    cli.child.stdout!.destroy(); // every later write (request log lines) hits a closed pipe
    for (let i = 0; i < 3; i++) expect((await fetch(`${url}/inspect/a`)).status).toBe(200);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
  });

  it('exits 1 with one clear line when the port is in use', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const cli = runCli(['start', '--config', BASICS, '--port', String(port)]);
      expect(await cli.exited).toBe(1);
      expect(cli.stderr().trim()).toBe(
        `fngate: port ${port} on 127.0.0.1 is already in use; choose another with --port (0 picks a free one)`,
      );
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
