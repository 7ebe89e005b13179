import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../runtime/index.js';
import { runCli, waitForReady } from '../../helpers/cli.js';
import { fixtureConfig } from '../../helpers/fixtures.js';
import { createProject } from '../../helpers/project.js';
import { rawExchange } from '../../helpers/raw-http.js';
import { startRuntime } from '../../helpers/runtime.js';
import { waitFor } from '../../helpers/wait.js';

// Env isolation (process.env and child processes) is in env-isolation.test.ts, imports outside
// the project in build-failures.test.ts, stacks absent in start mode in function-error.test.ts.
describe('security defaults', () => {
  it('binds 127.0.0.1 unless told otherwise', async () => {
    const server = await startRuntime({ config: fixtureConfig('faults') });
    expect(server.runtime.host).toBe('127.0.0.1');
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('warns when listening on every interface, a choice that exposes every function and an open /_fngate/', async () => {
    const cli = runCli(['dev', '--config', fixtureConfig('faults'), '--port', '0', '--host', '0.0.0.0']);
    await waitForReady(cli);
    // stderr may arrive after the ready line on stdout.
    await waitFor(() => cli.stderr().includes('listening on all interfaces (0.0.0.0): every function is reachable from the network'), {
      what: 'the warning',
    });
    await waitFor(() => cli.stderr().includes('note: so is /_fngate/ (status, file paths, error messages), without a token'), { what: 'the admin warning' });
  });

  it('refuses to start a function whose file lies outside the project directory', async () => {
    const project = await createProject({ 'config.yaml': 'functions:\n  escape:\n    file: ../../etc/hostname\n    routes: GET /x\n' });
    const started = startRuntime({ cwd: project.dir });
    await expect(started).rejects.toBeInstanceOf(ConfigError);
    await expect(started).rejects.toThrow(/config\.yaml:3 functions\.escape\.file: .* lies outside the project directory/);
  });

  it('refuses a symlink inside the project that points outside it', async () => {
    const project = await createProject({ 'config.yaml': 'functions:\n  link:\n    file: functions/link.ts\n    routes: GET /x\n' });
    const outside = join(tmpdir(), `fngate-outside-${process.pid}-${Date.now()}.ts`);
    await writeFile(outside, 'export default () => "outside";');
    try {
      await mkdir(project.path('functions'));
      await symlink(outside, project.path('functions/link.ts'));
      await expect(startRuntime({ cwd: project.dir })).rejects.toThrow(
        /functions\.link\.file: functions\/link\.ts lies outside the project directory/,
      );
    } finally {
      await rm(outside, { force: true });
    }
  });
});

describe('Host check against DNS rebinding', () => {
  /** The status and body a request with this Host header gets. */
  async function withHost(url: string, host: string, path = '/healthy'): Promise<{ status: number; response: string }> {
    return rawExchange(url, (socket) => void socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
  }

  it('answers 403 FNGATE_HOST_NOT_ALLOWED on a loopback address to a Host that is not localhost or a loopback IP, admin endpoints included', async () => {
    const server = await startRuntime({ config: fixtureConfig('faults'), mode: 'dev' });
    const port = new URL(server.url).port;
    for (const host of ['attacker.example', `attacker.example:${port}`, '127.0.0.1.attacker.example', 'localhost.attacker.example', '10.0.0.1']) {
      const refused = await withHost(server.url, host);
      expect(refused.status, host).toBe(403);
      expect(refused.response).toContain('"code":"FNGATE_HOST_NOT_ALLOWED"');
      expect(refused.response).toContain('server.allowedHosts');
    }
    expect((await withHost(server.url, 'attacker.example', '/_fngate/status')).status).toBe(403);
    for (const host of ['localhost', `localhost:${port}`, 'LocalHost:1', 'app.localhost', '127.0.0.1', `127.0.0.1:${port}`, '127.1.2.3', '[::1]', `[::1]:${port}`]) {
      expect((await withHost(server.url, host)).status, host).toBe(200);
    }
  });

  it('accepts the hosts listed in server.allowedHosts, a leading dot taking in subdomains', async () => {
    const project = await createProject({
      'config.yaml': 'server:\n  allowedHosts: [myapp.test, .dev.example]\nfunctions:\n  healthy:\n    routes: GET /healthy\n',
      'functions/healthy.ts': 'export default () => "ok";\n',
    });
    const server = await startRuntime({ cwd: project.dir });
    for (const host of ['myapp.test', 'myapp.test:8080', 'dev.example', 'a.b.dev.example', 'localhost']) {
      expect((await withHost(server.url, host)).status, host).toBe(200);
    }
    for (const host of ['other.myapp.test', 'notdev.example', 'attacker.example']) {
      expect((await withHost(server.url, host)).status, host).toBe(403);
    }
  });

  it('does not check the Host when listening on every interface, a choice made for other machines', async () => {
    const server = await startRuntime({ config: fixtureConfig('faults'), host: '0.0.0.0' });
    const url = server.url.replace('0.0.0.0', '127.0.0.1');
    expect((await withHost(url, 'my-laptop.lan')).status).toBe(200);
  });
});
