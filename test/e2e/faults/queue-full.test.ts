import { describe, expect, it } from 'vitest';
import { fixtureConfig } from '../../helpers/fixtures.js';
import { errorOf, expectHealthy, startRuntime } from '../../helpers/runtime.js';
import { waitFor } from '../../helpers/wait.js';

const config = fixtureConfig('faults');

describe('fault: queue full', () => {
  it('answers 503 FNGATE_QUEUE_FULL with Retry-After at once when the thread is busy and the queue is full', async () => {
    const server = await startRuntime({ config });
    const state = () => server.runtime.functions().find((f) => f.name === 'busy')!;
    let firstDone = false;
    const first = server.fetch('/busy?ms=1500').then((r) => ((firstDone = true), r));
    await waitFor(() => state().running === 1, { what: 'the first request to run' });
    const second = server.fetch('/busy?ms=1');
    await waitFor(() => state().queued === 1, { what: 'the second request to queue' });

    const refused = await server.fetch('/busy?ms=1');
    // It did not wait for a slot: the first request is still running.
    expect(firstDone).toBe(false);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await errorOf(refused)).toMatchObject({
      code: 'FNGATE_QUEUE_FULL',
      function: 'busy',
      message: 'all 1 threads of busy are busy and 1 requests are already queued (maxQueue)',
    });
    expect(await (await first).text()).toBe('held 1500 ms');
    expect(await (await second).text()).toBe('held 1 ms');
    expect(await (await server.fetch('/busy?ms=1')).text()).toBe('held 1 ms');
    await expectHealthy(server);
  });

  it('with maxQueue 0 refuses a request as soon as every thread is busy', async () => {
    const server = await startRuntime({ config });
    const state = () => server.runtime.functions().find((f) => f.name === 'unqueued')!;
    const first = server.fetch('/unqueued?ms=1000');
    await waitFor(() => state().running === 1, { what: 'the first request to run' });
    const refused = await server.fetch('/unqueued?ms=1');
    expect(refused.status).toBe(503);
    expect(await errorOf(refused)).toMatchObject({
      code: 'FNGATE_QUEUE_FULL',
      message: 'all 1 threads of unqueued are busy and it has no queue (maxQueue: 0)',
    });
    expect((await first).status).toBe(200);
    expect(await (await server.fetch('/unqueued?ms=1')).text()).toBe('held 1 ms');
    await expectHealthy(server);
  });
});
