import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runCli, waitForReady } from '../helpers/cli.js';
import { freshRequest } from '../helpers/raw-http.js';
import { createProject } from '../helpers/project.js';
import { startRuntime } from '../helpers/runtime.js';
import { waitFor } from '../helpers/wait.js';


const PROJECT = {
  'config.yaml': 'server:\n  admin: { token: secret }\nfunctions:\n  hello:\n    routes: GET /hello\n',
  'functions/hello.ts': 'export default () => "hi";\n',
};

describe('health endpoints', () => {
  it('answers /_fngate/live and /_fngate/ready in start mode without the admin token, while the admin routes want it', async () => {
    const project = await createProject(PROJECT);
    const server = await startRuntime({ cwd: project.dir, mode: 'start' });
    const live = await server.fetch('/_fngate/live');
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'live' });
    expect(live.headers.get('cache-control')).toBe('no-store');
    const ready = await server.fetch('/_fngate/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
    expect((await server.fetch('/_fngate/status')).status).toBe(401);
  });

  it('answers them also when the admin endpoints are off', async () => {
    const project = await createProject({ ...PROJECT, 'config.yaml': 'server:\n  admin: false\nfunctions:\n  hello:\n    routes: GET /hello\n' });
    const server = await startRuntime({ cwd: project.dir, mode: 'dev' });
    expect((await server.fetch('/_fngate/ready')).status).toBe(200);
    expect((await server.fetch('/_fngate/status')).status).toBe(404);
  });
});

describe('drain on SIGTERM', () => {
  it('turns ready to 503 at once, keeps serving new connections for drainDelay, then refuses them and exits 0', async () => {
    const project = await createProject({
      ...PROJECT,
      'config.yaml': 'server:\n  drainDelay: 1500ms\n  shutdownTimeout: 2s\nfunctions:\n  hello:\n    routes: GET /hello\n',
    });
    const cli = runCli(['start', '--port', '0'], { cwd: project.dir });
    const url = await waitForReady(cli);
    await waitFor(async () => (await freshRequest(`${url}/_fngate/ready`)) === 200, { what: 'every function to be warm' });
    cli.child.kill('SIGTERM');
    await waitFor(() => cli.stdout().includes('SIGTERM: not ready any more; accepting requests for 1500 ms (drainDelay)'), { what: 'the signal to be handled' });
    // Within the delay: not ready, but a new connection is still served.
    expect(await freshRequest(`${url}/_fngate/ready`)).toBe(503);
    expect(await freshRequest(`${url}/hello`)).toBe(200);
    // After it, new connections are refused, and the process exits cleanly.
    await waitFor(async () => ['ECONNREFUSED', 'ECONNRESET'].includes(String(await freshRequest(`${url}/hello`))), { what: 'new connections to be refused' });
    expect(await cli.exited).toBe(0);
  });
});

describe('metrics port', () => {
  it('serves Prometheus metrics on server.metricsPort with capacity and saturation per function, and nothing else', async () => {
    // A free port for the metrics server: take one, release it, hand it over.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as { port: number };
        probe.close(() => resolve(free));
      });
    });
    const project = await createProject({
      ...PROJECT,
      'config.yaml': `server:\n  metricsPort: ${port}\nfunctions:\n  hello:\n    routes: GET /hello\n    maxThreads: 2\n    concurrency: 3\n`,
    });
    const server = await startRuntime({ cwd: project.dir, mode: 'start' });
    expect(await (await server.fetch('/hello')).text()).toBe('hi');
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/^fngate_capacity\{function="hello"\} 6$/m);
    expect(text).toMatch(/^fngate_saturation\{function="hello"\} 0$/m);
    expect(text).toMatch(/^fngate_requests_total\{function="hello",status="200"\} 1$/m);
    expect((await fetch(`http://127.0.0.1:${port}/hello`)).status).toBe(404);
    // The traffic port does not serve them: the admin endpoints are off in start mode.
    expect((await server.fetch('/_fngate/metrics')).status).toBe(404);
  });
});
