import { describe, expect, it } from 'vitest';
import { fixtureConfig } from '../../helpers/fixtures.js';
import { expectHealthy, startRuntime } from '../../helpers/runtime.js';
import { waitFor } from '../../helpers/wait.js';

describe('fault: client disconnects', () => {
  it('drops a queued request whose client left before it runs, and aborts ctx.signal of a running one', async () => {
    const server = await startRuntime({ config: fixtureConfig('faults') });
    const state = () => server.runtime.functions().find((f) => f.name === 'watched')!;

    const running = new AbortController();
    const queued = new AbortController();
    const a = server.fetch('/watched?ms=30000&tag=A', { signal: running.signal }).catch((e: Error) => e.name);
    await waitFor(() => state().running === 1, { what: 'A to run' });
    const b = server.fetch('/watched?ms=10&tag=B', { signal: queued.signal }).catch((e: Error) => e.name);
    await waitFor(() => state().queued === 1, { what: 'B to queue' });

    queued.abort();
    await waitFor(() => state().queued === 0, { what: 'B to leave the queue' });
    running.abort();
    expect(await a).toBe('AbortError');
    expect(await b).toBe('AbortError');

    // The thread is free again and reports: A saw its signal abort, B never ran.
    const log = await waitFor(async () => {
      const record = (await (await server.fetch('/watched/log')).json()) as string[];
      return record.includes('aborted A: AbortError') && record;
    }, { what: 'A to be aborted' });
    expect(log).toEqual(['started A', 'aborted A: AbortError']);
    expect(await (await server.fetch('/watched?ms=1&tag=C')).text()).toBe('finished C');
    await expectHealthy(server);
  });
});
