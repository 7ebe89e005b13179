import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from './config/config-error.js';
import { formatDuration } from './config/units.js';
import { createRuntime, type FunctionState, type Runtime } from './create-runtime.js';
import { PortInUseError } from './gateway/http-server.js';
import { consoleLogger } from './log.js';

const USAGE = `Usage: fngate <command> [options]

Commands:
  dev      Serve the functions in config.yaml and hot-reload them on every save
           (development mode: stacks in error bodies)  [default]
  start    Serve the functions in config.yaml, no watching (production mode: no stacks)

Options:
  --config FILE   Config file; function paths are relative to it   (default: ./config.yaml)
  --port N        Port to listen on; 0 picks a free one            (default: PORT, then server.port, then 3000)
  --host H        Interface to bind                                 (default: server.host, then 127.0.0.1)
  -h, --help      Show this help
  -v, --version   Show the version

Signals: SIGINT/SIGTERM stop accepting, let in-flight requests finish (server.shutdownTimeout),
then exit 0; a second signal exits at once.`;

/** Runs the CLI; resolves when a server is up, or after printing help. Sets process.exitCode on failure. */
export async function main(argv: readonly string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
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
  if (positionals.length > 1) return fail(`unexpected argument "${positionals[1]}"\n\n${USAGE}`);

  const portText = values.port ?? process.env.PORT;
  let port: number | undefined;
  if (portText !== undefined && portText !== '') {
    port = Number(portText);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      return fail(`invalid port "${portText}" (${values.port !== undefined ? '--port' : 'PORT'}): expected 0-65535`);
    }
  }

  let runtime: Runtime;
  try {
    runtime = await createRuntime({
      config: values.config ?? 'config.yaml',
      mode: command,
      watch: command === 'dev',
      ...(port !== undefined && { port }),
      ...(values.host !== undefined && { host: values.host }),
    });
  } catch (error) {
    if (error instanceof ConfigError) return fail(error.message);
    if (error instanceof PortInUseError) {
      return fail(`${error.message}; choose another with --port (0 picks a free one)`);
    }
    throw error;
  }

  const functions = runtime.functions();
  // Since the process started, as a user waiting for the prompt experiences it.
  const startMs = Math.round(performance.now());
  const cached = functions.filter((fn) => fn.fromCache).length;
  const reuse = cached > 0 ? `, ${cached} from build cache` : '';
  process.stdout.write(`fngate ready on ${runtime.url} (${functions.length} function${functions.length === 1 ? '' : 's'} in ${startMs} ms${reuse})\n`);
  process.stdout.write(`${formatTable(functions)}\n`);
  if (command === 'dev') consoleLogger.info(`watching ${runtime.watchedFiles()} files for changes`);
  if (runtime.host === '0.0.0.0' || runtime.host === '::') {
    consoleLogger.warn(`note: listening on all interfaces (${runtime.host}): every function is reachable from the network`);
  }
  handleSignals(runtime);
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
