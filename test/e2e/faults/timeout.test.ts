import { describe, expect, it } from 'vitest';
import { fixtureConfig } from '../../helpers/fixtures.js';
import { createProject } from '../../helpers/project.js';
import { errorOf, expectHealthy, startRuntime } from '../../helpers/runtime.js';
import { waitFor } from '../../helpers/wait.js';

const config = fixtureConfig('faults');

describe('fault: timeout', () => {
  it('answers 504 and aborts ctx.signal for a cooperative handler, whose thread keeps serving', async () => {
    const server = await startRuntime({ config });
    const before = (await (await server.fetch('/timeout?mode=ok')).json()) as { threadId: number };
    const response = await server.fetch('/timeout?mode=cooperative');
    expect(response.status).toBe(504);
    const error = await errorOf(response);
    expect(error).toMatchObject({ code: 'FNGATE_TIMEOUT', function: 'timeout' });
    expect(error.message).toBe('timeout did not answer within its timeout (1 s)');
    const after = await server.fetch('/timeout?mode=ok');
    expect(after.status).toBe(200);
    // It stopped when its signal aborted, so its thread was not terminated.
    expect(((await after.json()) as { threadId: number }).threadId).toBe(before.threadId);
    await expectHealthy(server);
  });

  it('serves a request sent right after a 504 while the timed-out handler is still stopping, on the same thread', async () => {
    const server = await startRuntime({ config });
    const before = (await (await server.fetch('/timeout?mode=ok')).json()) as { threadId: number };
    expect((await server.fetch('/timeout?mode=lingering')).status).toBe(504);
    // Sent while its thread takes no new work (the handler needs 100 ms more to stop).
    const after = await server.fetch('/timeout?mode=ok');
    expect(after.status).toBe(200);
    expect(((await after.json()) as { threadId: number }).threadId).toBe(before.threadId);
    await expectHealthy(server);
  });

  it('answers 504 for a handler that never yields, terminates its thread and starts another', async () => {
    const server = await startRuntime({ config });
    const before = (await (await server.fetch('/timeout?mode=ok')).json()) as { threadId: number };
    const response = await server.fetch('/timeout?mode=spin');
    expect(response.status).toBe(504);
    expect((await errorOf(response)).code).toBe('FNGATE_TIMEOUT');
    for (let i = 0; i < 3; i++) {
      const after = await server.fetch('/timeout?mode=ok');
      expect(after.status).toBe(200);
      expect(((await after.json()) as { threadId: number }).threadId).not.toBe(before.threadId);
    }
    await expectHealthy(server);
  });

  it('leaves the requests sharing a thread alone when a timed-out handler only awaits, ignoring ctx.signal', async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  hang:\n    routes: GET /hang\n    maxThreads: 1\n    concurrency: 4\n    timeout: 1s\n',
      // ?mode=hang awaits forever and ignores its signal; the default streams "a", then "b" 1.5 s
      // later: past the hanging request's timeout and kill grace (a stream may outlive timeout).
      'functions/hang.ts': `
import { setTimeout as sleep } from 'node:timers/promises';
import { threadId } from 'node:worker_threads';
export default (req: Request) => {
  const mode = new URL(req.url).searchParams.get('mode');
  if (mode === 'hang') return new Promise(() => {});
  if (mode === 'thread') return { threadId };
  return (async function* () { yield 'a'; await sleep(1500); yield 'b'; })();
};
`,
    });
    const server = await startRuntime({ cwd: project.dir });
    const before = ((await (await server.fetch('/hang?mode=thread')).json()) as { threadId: number }).threadId;
    const neighbour = await server.fetch('/hang');
    const body = neighbour.text();
    const hung = await server.fetch('/hang?mode=hang');
    expect(hung.status).toBe(504);
    expect(await body).toBe('ab');
    await waitFor(() => server.logs.text().includes('ignored ctx.signal after its timeout'), { what: 'the notice' });
    const after = ((await (await server.fetch('/hang?mode=thread')).json()) as { threadId: number }).threadId;
    expect(after).toBe(before);
    await waitFor(() => server.runtime.functions()[0]!.running === 0, { what: 'every slot to be released' });
  });

  it('counts time spent queued: a request stuck behind a runaway times out too', async () => {
    const server = await startRuntime({ config });
    const [first, second] = await Promise.all([server.fetch('/timeout?mode=spin'), server.fetch('/timeout?mode=ok')]);
    expect([first.status, second.status]).toEqual([504, 504]);
    expect((await errorOf(second)).message).toMatch(/waited 1 s in the queue without getting a thread/);
    expect((await server.fetch('/timeout?mode=ok')).status).toBe(200);
    await expectHealthy(server);
  });

  it('does not run a request that reaches a (slow-starting) thread after its deadline, so the pool never wedges', async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  slowstart:\n    routes: GET /slowstart\n    maxThreads: 1\n    timeout: 300ms\n',
      // A new thread needs 400 ms to load this module: longer than a queued request can wait.
      'functions/slowstart.ts': [
        'import { setTimeout as sleep } from "node:timers/promises";',
        'await sleep(400);',
        'export default (req: Request) => {',
        '  if (new URL(req.url).searchParams.get("spin")) for (;;) {}',
        '  return "answered";',
        '};',
      ].join('\n'),
    });
    const server = await startRuntime({ cwd: project.dir });
    const state = () => server.runtime.functions()[0]!;
    // The first runaway gets its 504 at 300 ms; its thread is killed 200 ms later.
    expect((await server.fetch('/slowstart?spin=1')).status).toBe(504);
    // Sent in between, the second waits behind it, reaches piscina when the thread is killed, and
    // reaches the new thread (400 ms to load) only after its own deadline. Run anyway, it would
    // spin on the new thread forever and nothing would ever be answered again.
    expect((await server.fetch('/slowstart?spin=1')).status).toBe(504);
    const recovered = await waitFor(async () => {
      const response = await server.fetch('/slowstart');
      return response.status === 200 && (await response.text());
    }, { what: 'the function to answer again' });
    expect(recovered).toBe('answered');
    expect(state().running).toBe(0);
  });
});
