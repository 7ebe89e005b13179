import { describe, expect, it } from 'vitest';
import { fixtureConfig } from '../../helpers/fixtures.js';
import { errorOf, expectHealthy, startRuntime } from '../../helpers/runtime.js';

const config = fixtureConfig('faults');

describe('fault: worker crash', () => {
  const cases: [mode: string, message: RegExp][] = [
    ['exit', /^the worker thread exited with code 7 \(process\.exit\?\); it was replaced$/],
    ['timer', /^the worker thread crashed: Error: thrown from a timer; it was replaced$/],
    ['rejection', /^the worker thread crashed: Error: a rejection nobody handles; it was replaced$/],
  ];
  for (const [mode, message] of cases) {
    it(`answers 502 FNGATE_WORKER_CRASHED when the handler's thread dies (${mode}), then serves on a new thread`, async () => {
      const server = await startRuntime({ config });
      const before = (await (await server.fetch('/crash?mode=ok')).json()) as { threadId: number };
      const response = await server.fetch(`/crash?mode=${mode}`);
      expect(response.status).toBe(502);
      const error = await errorOf(response);
      expect(error.code).toBe('FNGATE_WORKER_CRASHED');
      expect(error.function).toBe('crash');
      expect(error.message).toMatch(message);
      const after = await server.fetch('/crash?mode=ok');
      expect(after.status).toBe(200);
      expect(((await after.json()) as { threadId: number }).threadId).not.toBe(before.threadId);
      await expectHealthy(server);
    });
  }
});
