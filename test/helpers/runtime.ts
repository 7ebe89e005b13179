import { afterEach } from 'vitest';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../runtime/index.js';
import type { Logger } from '../../runtime/common/logger.js';

const open: Runtime[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((runtime) => runtime.close()));
});

export interface TestLogger extends Logger {
  readonly lines: string[];
  /** Everything logged so far, one string. */
  text(): string;
}

export function createTestLogger(): TestLogger {
  const lines: string[] = [];
  return {
    lines,
    info: (message) => void lines.push(message),
    warn: (message) => void lines.push(message),
    error: (message) => void lines.push(message),
    text: () => lines.join('\n'),
  };
}

export interface StartedRuntime {
  readonly runtime: Runtime;
  readonly url: string;
  readonly logs: TestLogger;
  /** fetch() relative to the runtime's URL. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

/**
 * Starts the real runtime on a free port; closed automatically after the test. Resolves once
 * every function has started (`warmed: false`: as soon as it listens).
 */
export async function startRuntime(options: RuntimeOptions & { warmed?: boolean }): Promise<StartedRuntime> {
  const logs = createTestLogger();
  const { warmed = true, ...runtimeOptions } = options;
  const runtime = await createRuntime({ port: 0, logger: logs, ...runtimeOptions });
  open.push(runtime);
  if (warmed) await runtime.warmed();
  return {
    runtime,
    url: runtime.url,
    logs,
    fetch: (path, init) => fetch(`${runtime.url}${path}`, init),
  };
}

/** Reads an fngate error body. */
export async function errorOf(response: Response): Promise<{ code: string; message: string; function?: string; stack?: string }> {
  const body = (await response.json()) as { error: { code: string; message: string; function?: string; stack?: string } };
  return body.error;
}

/** The `healthy` function of the faults fixture still answers: a fault stayed where it happened. */
export async function expectHealthy(server: StartedRuntime): Promise<void> {
  const response = await server.fetch('/healthy');
  if (response.status !== 200 || (await response.text()) !== 'ok') {
    throw new Error(`the healthy function was disturbed: ${response.status}`);
  }
}
