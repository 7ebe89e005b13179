import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, waitForReady } from '../../helpers/cli.js';
import { freshRequest } from '../../helpers/raw-http.js';
import { fixtureConfig } from '../../helpers/fixtures.js';
import { createProject } from '../../helpers/project.js';
import { startRuntime } from '../../helpers/runtime.js';
import { waitFor } from '../../helpers/wait.js';

const config = fixtureConfig('faults');

describe('fault: shutdown under load', () => {
  it('refuses new connections, answers all 50 accepted requests, destroys the pools and removes the bundles', async () => {
    const server = await startRuntime({ config });
    const state = () => server.runtime.functions().find((f) => f.name === 'steady')!;
    const inFlight = Array.from({ length: 50 }, (_, i) => server.fetch(`/steady?ms=600&i=${i}`).then(async (r) => [r.status, await r.text()]));
    await waitFor(() => state().running + state().queued === 50, { what: 'all 50 requests to be accepted' });

    const closed = server.runtime.close();
    // More arriving: new connections are refused while the accepted ones drain.
    const late = await Promise.all(Array.from({ length: 10 }, () => freshRequest(`${server.url}/healthy`)));
    // Refused, or (a connection the kernel accepted just as the listener closed) reset unanswered.
    for (const outcome of late) expect(['ECONNREFUSED', 'ECONNRESET']).toContain(outcome);

    const answers = await Promise.all(inFlight);
    expect(answers).toEqual(Array.from({ length: 50 }, () => [200, 'held 600 ms']));
    await closed;
    const runDirs = await readdir(join(config, '..', '.fngate')).catch(() => []);
    expect(runDirs.filter((dir) => dir.startsWith(`run-${process.pid}-`))).toEqual([]);
  });

  it('on SIGTERM to the CLI with 50 requests in flight answers all of them, refuses new connections and exits 0', async () => {
    const cli = runCli(['dev', '--quiet', '--config', config, '--port', '0']);
    const url = await waitForReady(cli);
    const inFlight = Array.from({ length: 50 }, (_, i) => fetch(`${url}/steady?ms=600&i=${i}`).then((r) => r.status));
    await waitFor(
      async () => {
        const status = (await (await fetch(`${url}/_fngate/status`)).json()) as { functions: { name: string; running: number; queue: { length: number } }[] };
        const steady = status.functions.find((fn) => fn.name === 'steady')!;
        return steady.running + steady.queue.length === 50;
      },
      { what: 'all 50 requests to be accepted' },
    );
    cli.child.kill('SIGTERM');
    await waitFor(() => cli.stdout().includes('SIGTERM: finishing in-flight requests'), { what: 'the signal to be handled' });
    expect(['ECONNREFUSED', 'ECONNRESET']).toContain(await freshRequest(`${url}/healthy`));
    expect(await Promise.all(inFlight)).toEqual(Array.from({ length: 50 }, () => 200));
    expect(await cli.exited).toBe(0);
  });

  it('closes what is still running once shutdownTimeout is over', async () => {
    const project = await createProject({
      'config.yaml': 'server:\n  shutdownTimeout: 300ms\nfunctions:\n  slow:\n    routes: GET /slow\n',
      'functions/slow.ts': 'import { setTimeout as sleep } from "node:timers/promises";\nexport default async () => { await sleep(60_000); return "late"; };\n',
    });
    const server = await startRuntime({ cwd: project.dir });
    const stuck = server.fetch('/slow').then(
      (r) => `status ${r.status}`,
      () => 'connection closed',
    );
    await waitFor(() => server.runtime.functions()[0]!.running === 1, { what: 'the request to run' });
    await server.runtime.close();
    expect(await stuck).toBe('connection closed');
  });

  it('bounds by shutdownTimeout the drain of an old version a reload left with background work', async () => {
    const project = await createProject({
      // timeout 5m: the overdue background work would hold v1 (and a shutdown without bound) that long.
      'config.yaml': 'server:\n  shutdownTimeout: 300ms\nfunctions:\n  feed:\n    routes: GET /feed\n    timeout: 5m\n',
      // Only the first request leaves work that never ends: every request holding a slot for good
      // would fill v1's capacity while a slow reload is under way, and the next one would queue
      // there for the 5 minutes of its timeout.
      'functions/feed.ts':
        'import type { Handler } from "fngate";\nlet first = true;\nconst feed: Handler = (_req, ctx) => {\n  if (first) ctx.waitUntil(new Promise(() => {}));\n  first = false;\n  return "v1";\n};\nexport default feed;\n',
    });
    const server = await startRuntime({ cwd: project.dir, watch: true, mode: 'dev' });
    expect(await (await server.fetch('/feed')).text()).toBe('v1');
    await project.write('functions/feed.ts', 'export default () => "v2";\n');
    await waitFor(async () => (await (await server.fetch('/feed')).text()) === 'v2', { what: 'the new version to serve' });
    // v1 still drains (its background work never ends); shutdown must not wait for it past the
    // grace: without the bound, close() would not resolve within the test's timeout.
    await server.runtime.close();
  });

  it('exits at once, with code 1, on a second signal', async () => {
    const cli = runCli(['start', '--config', fixtureConfig('basics'), '--port', '0']);
    const url = await waitForReady(cli);
    const pending = fetch(`${url}/announce?ms=30000`).catch(() => 'closed');
    await waitFor(() => cli.stdout().includes('announce: started'), { what: 'the request to start' });
    cli.child.kill('SIGTERM');
    await waitFor(() => cli.stdout().includes('SIGTERM: finishing in-flight requests'), { what: 'the first signal' });
    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toContain('SIGINT again: exiting without waiting');
    expect(await pending).toBe('closed');
  });
});
