import { readFileSync } from 'node:fs';
import inspector from 'node:inspector';
import { parseArgs } from 'node:util';
import { ConfigError } from './config/config-error.js';
import { formatDuration } from './config/units.js';
import { createRuntime, type FunctionState, type Runtime } from './create-runtime.js';
import { ListenError, PortInUseError } from './gateway/http-server.js';
import { consoleLogger } from './common/logger.js';

const USAGE = `Usage: fngate <command> [options]

Commands:
  dev      Serve the functions in config.yaml and hot-reload them on every save
           (development mode: stacks in error bodies, a log line per request)  [default]
  start    Serve the functions in config.yaml, no watching (production mode: no stacks)
  invoke   Run one function once, without a server: fngate invoke NAME [--data JSON|@file]
  new      Create functions/NAME.ts and add it to config.yaml: fngate new NAME [--route "GET /x"]
  schema   Print the JSON Schema of config.yaml: fngate schema > fngate.schema.json

Run fngate <command> --help for the options of invoke, new and schema.

Options of dev and start:
  --config FILE   Config file; function paths are relative to it   (default: ./config.yaml)
  --port N        Port to listen on; 0 picks a free one            (default: PORT, then server.port, then 3000)
  --host H        Interface to bind                                 (default: server.host, then 127.0.0.1)
  --quiet         No request log lines (dev prints one per request)
  --inspect[=[HOST:]PORT]
                  Open the debugger (default 127.0.0.1:9229) and run every function on one
                  thread with no timeout, so breakpoints in function code are hit and held
  -h, --help      Show this help
  -v, --version   Show the version

Signals: SIGINT/SIGTERM stop accepting, let in-flight requests finish (server.shutdownTimeout),
then exit 0; a second signal exits at once.`;

/**
 * Commands that do not serve. Loaded on demand: `fngate dev` never pays for them. Each module
 * exports `run(argv)`, which sets process.exitCode on failure.
 */
const COMMANDS: Record<string, () => Promise<{ run(argv: readonly string[]): Promise<void> }>> = {
  invoke: () => import('./commands/invoke.js'),
  new: () => import('./commands/new-function.js'),
  schema: () => import('./commands/schema.js'),
};

/** Runs the CLI; resolves when a server is up, or after printing help. Sets process.exitCode on failure. */
export async function main(argv: readonly string[]): Promise<void> {
  const first = argv[0];
  // Before any function code can run: `fngate invoke` runs one too.
  refuseDebuggerSignal();
  if (first !== undefined && Object.hasOwn(COMMANDS, first)) {
    const module = await COMMANDS[first]!();
    return module.run(argv.slice(1));
  }
  let parsed;
  try {
    parsed = parseArgs({
      // `--inspect` alone means the default debugger address, as with node itself.
      args: argv.map((arg) => (arg === '--inspect' ? `--inspect=${DEFAULT_INSPECT}` : arg)),
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
        inspect: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (error) {
    return fail(`${(error as Error).message}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  if (values.version) return void process.stdout.write(`${readVersion()}\n`);

  const command = positionals[0] ?? 'dev';
  if (command !== 'dev' && command !== 'start') return fail(`unknown command "${command}"\n\n${USAGE}`);
  keepServingWithoutReaders();
  if (positionals.length > 1) return fail(`unexpected argument "${positionals[1]}"\n\n${USAGE}`);

  const portText = values.port ?? process.env.PORT;
  let port: number | undefined;
  if (portText !== undefined && portText !== '') {
    port = Number(portText);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      return fail(`invalid port "${portText}" (${values.port !== undefined ? '--port' : 'PORT'}): expected 0-65535`);
    }
  }

  let inspectUrl: string | undefined;
  if (values.inspect !== undefined) {
    const address = parseInspect(values.inspect);
    if (typeof address === 'string') return fail(address);
    try {
      inspector.open(address.port, address.host, false);
    } catch (error) {
      return fail(`--inspect: cannot open the debugger on ${values.inspect}: ${(error as Error).message}`);
    }
    inspectUrl = inspector.url();
  }

  let runtime: Runtime;
  try {
    runtime = await createRuntime({
      config: values.config ?? 'config.yaml',
      mode: command,
      watch: command === 'dev',
      logRequests: command === 'dev' && !values.quiet,
      debug: inspectUrl !== undefined,
      ...(port !== undefined && { port }),
      ...(values.host !== undefined && { host: values.host }),
    });
  } catch (error) {
    if (error instanceof ConfigError) return fail(error.message);
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
  // One write, so a reader that sees the ready line sees the route table with it.
  process.stdout.write(
    `fngate ready on ${runtime.url} (${functions.length} function${functions.length === 1 ? '' : 's'} in ${startMs} ms${reuse})\n` +
      `${formatTable(functions)}\n`,
  );
  if (runtime.dashboardUrl !== undefined) consoleLogger.info(`dashboard: ${runtime.dashboardUrl}  (status JSON: /_fngate/status, Prometheus: /_fngate/metrics)`);
  if (command === 'dev') consoleLogger.info(`watching ${runtime.watchedFiles()} files for changes`);
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

const DEFAULT_INSPECT = '127.0.0.1:9229';

/** `[HOST:]PORT` as node's --inspect takes it. */
function parseInspect(value: string): { host: string; port: number } | string {
  const match = /^(?:(.+):)?(\d+)$/.exec(value);
  const port = Number(match?.[2]);
  if (!match || !Number.isInteger(port) || port > 65535) return `invalid --inspect "${value}": expected [HOST:]PORT, e.g. --inspect=9230`;
  return { host: match[1] ?? '127.0.0.1', port };
}

/**
 * Node opens its debugger on SIGUSR1 unless someone listens for the signal, and function code
 * can send it (`process.kill(process.pid, 'SIGUSR1')`): the debugger's main-thread target is the
 * gateway thread, everything the function threads are kept from. Listening, before any function
 * code runs, keeps it closed; `fngate dev --inspect` is the way to debug.
 */
function refuseDebuggerSignal(): void {
  process.on('SIGUSR1', () => consoleLogger.warn('SIGUSR1 ignored: fngate does not open the debugger on a signal (function code could send one); use fngate dev --inspect'));
}

function handleSignals(runtime: Runtime): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      consoleLogger.warn(`${signal} again: exiting without waiting`);
      process.exit(1);
    }
    stopping = true;
    const grace = formatDuration(runtime.config.server.shutdownTimeout);
    consoleLogger.info(`${signal}: finishing in-flight requests (up to ${grace}), then exiting`);
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

function readVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function fail(message: string): void {
  process.stderr.write(`fngate: ${message}\n`);
  process.exitCode = 1;
}
