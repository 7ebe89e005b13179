import { formatDuration } from '../config/units.js';
import type { CrashBackoff } from './crash-backoff.js';
import type { FunctionPoolOptions } from './function-pool-options.js';
import { CRASH_LOOP } from './settings.js';

/**
 * What a pool says about its threads' crashes: how to fix what crashed one (when the runtime can
 * tell), and the threads that die outside any request, which no response reports: each is told
 * as an incident, and a loop of them pauses the pool (`pause`, through CrashBackoff).
 */
export class CrashReports {
  readonly #options: Pick<FunctionPoolOptions, 'name' | 'onIncident' | 'explain'>;
  readonly #backoff: CrashBackoff;
  readonly #pause: (reason: string) => void;

  constructor(options: Pick<FunctionPoolOptions, 'name' | 'onIncident' | 'explain'>, backoff: CrashBackoff, pause: (reason: string) => void) {
    this.#options = options;
    this.#backoff = backoff;
    this.#pause = pause;
  }

  /** How to fix what crashed a thread (a native addon, a package to leave unbundled), if known. */
  explain(error: Error): string | undefined {
    return this.#options.explain?.({ failure: 'function', name: error.name, message: error.message, stack: error.stack, runMs: 0 });
  }

  /** A thread crashed (an uncaught error) while it ran no request. */
  crashed(error: Error): void {
    const hint = this.explain(error);
    this.#options.onIncident?.(`[${this.#options.name}] a thread crashed outside any request: ${error.stack ?? error.message}${hint === undefined ? '' : `\n${hint}`}`);
    this.#count(`${error.name}: ${error.message}`);
  }

  /** Function code ended its thread with process.exit() while no request ran there (a timer, ctx.waitUntil() work). */
  exited(code: number): void {
    this.#options.onIncident?.(
      `[${this.#options.name}] a thread called process.exit(${code}) outside any request (in a timer or ctx.waitUntil() work, after its response); it was replaced`,
    );
    this.#count(`process.exit(${code})`);
  }

  /** Threads that keep dying outside requests pause the pool instead of being respawned in a loop. */
  #count(last: string): void {
    const crashes = this.#backoff.idleCrash();
    if (crashes >= CRASH_LOOP.crashes) {
      this.#pause(`its threads crashed ${crashes} times in ${formatDuration(CRASH_LOOP.windowMs)} outside any request (last: ${last})`);
    }
  }
}
