import type { ResolvedConfig, ResolvedFunction } from './resolve-config.js';

/** While a debugger is attached a handler may sit on a breakpoint this long before 504. */
export const DEBUG_TIMEOUT_MS = 60 * 60 * 1000;

/**
 * The config as `fngate dev --inspect` serves it: every function on exactly one thread that
 * takes one request at a time and never idles out, with an hour-long timeout. A breakpoint is
 * then hit on a thread the debugger already knows, execution stays in one place, and a paused
 * handler is not killed as a timed-out one.
 */
export function forDebugging(config: ResolvedConfig): ResolvedConfig {
  const functions: Record<string, ResolvedFunction> = {};
  for (const [name, fn] of Object.entries(config.functions)) {
    functions[name] = Object.freeze({
      ...fn,
      minThreads: 1,
      maxThreads: 1,
      concurrency: 1,
      idleTimeout: DEBUG_TIMEOUT_MS,
      timeout: Math.max(fn.timeout, DEBUG_TIMEOUT_MS),
    });
  }
  return Object.freeze({ ...config, functions: Object.freeze(functions) });
}
