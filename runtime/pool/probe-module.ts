import { formatDuration } from '../config/units.js';
import { PROBE_ID, type TaskEnvelope } from '../protocol/envelope.js';
import { isTaskFailure, type TaskFailure, type TaskOutcome } from '../protocol/failure.js';
import { loadDeathFailure, loadFailure } from './pool-errors.js';
import type { PoolSettings } from './settings.js';
import { deathOf, type ThreadPool } from './thread-pool.js';

/**
 * Loads a version's module on one thread with a probe task: null when it is ready to serve, else
 * the load failure (the module threw, its thread died, it did not finish loading within the
 * timeout, or the pool closed first). With minThreads 0 the probing thread is stopped again:
 * the first request starts one, as configured.
 */
export async function probeModule(threads: ThreadPool, settings: PoolSettings, closed: Promise<'closed'>): Promise<TaskFailure | null> {
  const timeoutMs = Math.max(settings.timeout, 10_000);
  const probe: TaskEnvelope = [PROBE_ID, 'GET', 'http://fngate.invalid/', [], null, null, Date.now() + timeoutMs];
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(resolve, timeoutMs, 'timeout');
  });
  try {
    const outcome = await Promise.race([threads.run(probe, null) as Promise<TaskOutcome>, timedOut, closed]);
    if (outcome === 'closed') return loadFailure('the pool was closed before the module finished loading');
    if (outcome === 'timeout') return loadFailure(`the module did not finish loading within ${formatDuration(timeoutMs)}`);
    if (isTaskFailure(outcome)) return outcome;
    if (settings.minThreads === 0) await threads.stopIdleThreads();
    return null;
  } catch (error) {
    // The thread died while loading: process.exit() or an uncaught error at top level.
    return loadDeathFailure(deathOf(error as Error));
  } finally {
    clearTimeout(timer);
  }
}
