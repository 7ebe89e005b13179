import { ConfigError } from '../config/config-error.js';
import { formatDuration } from '../config/units.js';
import { consoleLogger } from '../common/logger.js';
import { createRuntime, RuntimeOptionError, type FunctionState, type Runtime, type RuntimeOptions } from '../create-runtime.js';
import { ListenError, PortInUseError } from '../gateway/http-server.js';

export interface ServeOptions extends RuntimeOptions {
  /** The debugger's URL, when --inspect opened one (the CLI opens it before the runtime starts). */
  readonly inspectUrl?: string;
  /** Print every function's row even when there are many (`--routes`). */
  readonly routes?: boolean;
}

/** Above this many functions the ready line is followed by a summary, not a row per function. */
const TABLE_ROWS = 20;
/** What one idle warm thread costs here (npm run bench, B10). */
const WARM_THREAD_MB = 6;

/**
 * `fngate dev`, `fngate start`, and the built server: starts the runtime, prints the ready line
 * and the route table, and stops on SIGINT/SIGTERM. Sets process.exitCode when it cannot start.
 */
export async function serve(options: ServeOptions): Promise<void> {
  keepServingWithoutReaders();
  refuseDebuggerSignal();
  const { inspectUrl } = options;
  let runtime: Runtime;
  try {
    runtime = await createRuntime(options);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof RuntimeOptionError) return fail(error.message);
    if (error instanceof PortInUseError) {
      return fail(`${error.message}; choose another with --port (0 picks a free one)`);
    }
    if (error instanceof ListenError) return fail(error.message);
    throw error;
  }

  const functions = runtime.functions();
  // Since the process started, as a user waiting for the prompt experiences it.
  const startMs = Math.round(performance.now());
  const cached = functions.filter((fn) => fn.fromCache).length;
  const reuse = cached > 0 ? `, ${cached} from build cache` : '';
  const starting = runtime.starting().length;
  const warming = starting > 0 ? `, ${starting} warming` : '';
  // One write, so a reader that sees the ready line sees the route table with it.
  process.stdout.write(
    `fngate ready on ${runtime.url} (${functions.length} function${functions.length === 1 ? '' : 's'} in ${startMs} ms${reuse}${warming})\n` +
      `${functions.length <= TABLE_ROWS || options.routes ? formatTable(functions) : summarize(functions)}\n`,
  );
  const warmThreads = runtime.functions().reduce((sum, fn) => sum + fn.minThreads, 0);
  if (functions.length > TABLE_ROWS && warmThreads > functions.length / 2) {
    consoleLogger.info(
      `note: ${functions.length} functions keep ${warmThreads} threads warm (about ${Math.round(warmThreads * WARM_THREAD_MB)} MB); ` +
        'defaults: { minThreads: 0 } in config.yaml starts each on its first request instead (about 100 ms, once)',
    );
  }
  if (starting > 0) {
    // Load failures found while warming are printed as they come; this says when it is over.
    void runtime.warmed().then(() => {
      const failed = runtime.functions().filter((fn) => fn.problem !== undefined).length;
      consoleLogger.info(`all ${functions.length} functions warm in ${Math.round(performance.now())} ms${failed > 0 ? ` (${failed} unavailable)` : ''}`);
    });
  }
  if (runtime.dashboardUrl !== undefined) consoleLogger.info(`dashboard: ${runtime.dashboardUrl}  (status JSON: /_fngate/status, Prometheus: /_fngate/metrics)`);
  for (const [group, url] of Object.entries(options.forward ?? {})) consoleLogger.info(`forwarding deployment group ${group} to ${url}`);
  if (options.watch) consoleLogger.info(`watching ${runtime.watchedFiles()} files for changes`);
  if (inspectUrl !== undefined) {
    consoleLogger.info(
      `debugger listening on ${inspectUrl}\n` +
        `  attach: chrome://inspect (Open dedicated DevTools for Node), or VS Code "Attach" to port ${new URL(inspectUrl).port};\n` +
        `  each function's worker thread is its own target. Every function runs on 1 thread, 1 request at a time, timeout 1 h.`,
    );
  }
  if (runtime.host === '0.0.0.0' || runtime.host === '::') {
    consoleLogger.warn(`note: listening on all interfaces (${runtime.host}): every function is reachable from the network`);
    if (runtime.admin === 'open') {
      consoleLogger.warn('note: so is /_fngate/ (status, file paths, error messages), without a token: set server.admin: { token: ... } or false');
    }
  }
  handleSignals(runtime);
}

/**
 * A server whose output nobody reads any more (`fngate dev | head -1`, a closed terminal) must
 * keep serving: a write to a closed pipe is dropped instead of crashing the process with EPIPE.
 */
function keepServingWithoutReaders(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
    });
  }
}

function handleSignals(runtime: Runtime): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      consoleLogger.warn(`${signal} again: exiting without waiting`);
      process.exit(1);
    }
    stopping = true;
    const { shutdownTimeout, drainDelay } = runtime.config.server;
    const grace = formatDuration(shutdownTimeout);
    const drain = drainDelay > 0 ? `not ready any more; accepting requests for ${formatDuration(drainDelay)} (drainDelay), then ` : '';
    consoleLogger.info(`${signal}: ${drain}finishing in-flight requests (up to ${grace}), then exiting`);
    runtime.close().then(
      () => process.exit(0),
      (error: unknown) => {
        consoleLogger.error(`shutdown failed: ${(error as Error).stack ?? String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** Many functions: one line of counts, and the unavailable ones by name. */
function summarize(functions: readonly FunctionState[]): string {
  const routes = functions.reduce((sum, fn) => sum + fn.routes.length, 0);
  const broken = functions.filter((fn) => fn.problem !== undefined);
  const lines = [`  ${functions.length} functions, ${routes} routes (fngate dev --routes prints them all; /_fngate/ lists them live)`];
  for (const fn of broken) lines.push(`  ✘ ${fn.name} unavailable: ${fn.problem}`);
  return lines.join('\n');
}

function formatTable(functions: readonly FunctionState[]): string {
  const rows = [
    ['function', 'threads', 'queue', 'timeout', 'routes'],
    ...functions.map((fn) => [
      fn.name,
      `${fn.minThreads}-${fn.maxThreads}`,
      String(fn.maxQueue),
      formatDuration(fn.timeout),
      fn.routes.join(', ') + (fn.problem ? `   ✘ unavailable: ${fn.problem}` : ''),
    ]),
  ];
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  return rows
    .map((row) => `  ${row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col]!))).join('  ')}`)
    .join('\n');
}

function fail(message: string): void {
  process.stderr.write(`fngate: ${message}\n`);
  process.exitCode = 1;
}

/** `--forward GROUP=URL` flags, as the runtime takes them. */
export function parseForward(flags: readonly string[]): Record<string, string> | string {
  const forward: Record<string, string> = {};
  for (const flag of flags) {
    const match = /^([a-z][a-z0-9-]*)=(https?:\/\/.+)$/.exec(flag);
    if (!match) return `invalid --forward "${flag}": expected GROUP=http://host:port`;
    forward[match[1]!] = match[2]!;
  }
  return forward;
}

/**
 * Node opens its debugger on SIGUSR1 unless someone listens for the signal, and function code
 * can send it (`process.kill(process.pid, 'SIGUSR1')`): the debugger's main-thread target is the
 * gateway thread, everything the function threads are kept from. Listening, before any function
 * code runs, keeps it closed; `fngate dev --inspect` is the way to debug.
 */
export function refuseDebuggerSignal(): void {
  if (process.listenerCount('SIGUSR1') > 0) return;
  process.on('SIGUSR1', () => consoleLogger.warn('SIGUSR1 ignored: fngate does not open the debugger on a signal (function code could send one); use fngate dev --inspect'));
}
