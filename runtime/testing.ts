/**
 * For your own tests: `import { startFunctions } from 'fngate/testing'`.
 *
 * ```ts
 * import { afterEach, expect, it } from 'vitest';
 * import { startFunctions, type TestServer } from 'fngate/testing';
 *
 * let server: TestServer | undefined;
 * afterEach(() => server?.close());
 *
 * it('greets by name', async () => {
 *   server = await startFunctions();
 *   const response = await server.fetch('/hello/ada');
 *   expect(await response.text()).toBe('hello ada');
 * });
 * ```
 */
import type { Logger } from './common/logger.js';
import { createRuntime, type Runtime } from './create-runtime.js';

export interface StartFunctionsOptions {
  /** The config file, relative to `cwd`. @default "config.yaml" */
  readonly config?: string;
  /** The project directory. @default process.cwd() (vitest runs tests from the project root) */
  readonly cwd?: string;
  /**
   * `dev`: error bodies carry the handler's source-mapped stack, NODE_ENV is `development`.
   * `start`: as in production. @default "dev"
   */
  readonly mode?: 'dev' | 'start';
  /**
   * Run scheduled functions by the clock. Off by default, so a test decides when a run happens:
   * `await server.runtime.trigger('cleanup')` runs one and resolves with how it went. @default false
   */
  readonly schedules?: boolean;
}

/** The project's functions, served on a free port of 127.0.0.1 until close(). */
export interface TestServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** fetch() relative to `url`: `server.fetch('/hello/ada')`. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** What the runtime logged so far: build and load errors, crashes, incidents. */
  readonly logs: readonly string[];
  /** The runtime itself: its status(), functions(), config. */
  readonly runtime: Runtime;
  /** Waits for in-flight requests, then stops every thread and removes the bundles. Idempotent. */
  close(): Promise<void>;
}

/**
 * Builds and starts every function of the project on a free port (real worker threads, the real
 * gateway), without watching files and without printing. Close it after each test.
 */
export async function startFunctions(options: StartFunctionsOptions = {}): Promise<TestServer> {
  const logs: string[] = [];
  const logger: Logger = { info: (line) => void logs.push(line), warn: (line) => void logs.push(line), error: (line) => void logs.push(line) };
  const runtime = await createRuntime({
    config: options.config ?? 'config.yaml',
    ...(options.cwd !== undefined && { cwd: options.cwd }),
    mode: options.mode ?? 'dev',
    host: '127.0.0.1',
    port: 0,
    logRequests: false,
    schedules: options.schedules ?? false,
    logger,
  });
  // Every function loaded (or failed to): a test starts from a known state.
  await runtime.warmed();
  return {
    url: runtime.url,
    fetch: (path, init) => fetch(`${runtime.url}${path}`, init),
    logs,
    runtime,
    close: () => runtime.close(),
  };
}
