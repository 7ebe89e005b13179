import { request } from 'node:http';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, waitForReady } from '../../helpers/cli.js';
import { fixtureConfig } from '../../helpers/fixtures.js';
import { createProject } from '../../helpers/project.js';
import { startRuntime } from '../../helpers/runtime.js';
import { waitFor } from '../../helpers/wait.js';

const config = fixtureConfig('faults');

/** One request on its own new connection: resolves with the status, or the connection error code. */
function freshRequest(url: string): Promise<number | string> {
  return new Promise((resolve) => {
    request(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    })
      .on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
      .end();
  });
}

describe('fault: shutdown under load', () => {
  it('refuses new connections, answers all 50 accepted requests, destroys the pools and removes the bundles', async () => {
    const server = await startRuntime({ config });
    const state = () => server.runtime.functions().find((f) => f.name === 'steady')!;
    const inFlight = Array.from({ length: 50 }, (_, i) => server.fetch(`/steady?ms=100&i=${i}`).then(async (r) => [r.status, await r.text()]));
    await waitFor(() => state().running + state().queued === 50, { what: 'all 50 requests to be accepted' });

    const closed = server.runtime.close();
    // More arriving: new connections are refused while the accepted ones drain.
    const late = await Promise.all(Array.from({ length: 10 }, () => freshRequest(`${server.url}/healthy`)));
    expect(new Set(late)).toEqual(new Set(['ECONNREFUSED']));

    const answers = await Promise.all(inFlight);
    expect(answers).toEqual(Array.from({ length: 50 }, () => [200, 'held 100 ms']));
    await closed;
    const runDirs = await readdir(join(config, '..', '.fngate')).catch(() => []);
    expect(runDirs.filter((dir) => dir.startsWith(`run-${process.pid}-`))).toEqual([]);
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
