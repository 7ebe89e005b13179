import inspector from 'node:inspector';
import { parseArgs } from 'node:util';
import { parseForward, refuseDebuggerSignal, serve } from './commands/serve.js';
import { fngateVersion } from './common/runtime-files.js';

const USAGE = `Usage: fngate <command> [options]

Commands:
  dev      Serve the functions in config.yaml and hot-reload them on every save
           (development mode: stacks in error bodies, a log line per request)  [default]
  start    Serve the functions in config.yaml, no watching (production mode: no stacks)
  build    Build a directory that runs anywhere (and a container, and cluster manifests):
           fngate build [--out DIR] [--target kubernetes|knative]
  init     Start a project (package.json, tsconfig, config.yaml, a function, a test): fngate init [DIR]
  invoke   Run one function once and print its response: fngate invoke NAME [--data JSON|@file]
  trigger  Run a scheduled function once, now, as its schedule would: fngate trigger NAME
  new      Create functions/NAME.ts and add it to config.yaml: fngate new NAME [--route "GET /x"]
  tune     Measure a function under load and recommend (--write: set) its thread settings:
           fngate tune NAME [--path P] [--data TEXT|@file] [--duration 10s] [--write]
  schema   Print the JSON Schema of config.yaml: fngate schema > fngate.schema.json

Run fngate <command> --help for the options of build, init, invoke, new, schema, trigger and tune.

Options of dev and start:
  --config FILE   Config file; function paths are relative to it   (default: ./config.yaml)
  --port N        Port to listen on; 0 picks a free one            (default: PORT, then server.port, then 3000)
  --host H        Interface to bind                                 (default: server.host, then 127.0.0.1)
  --quiet         No request log lines (dev prints one per request)
  --routes        List every function after the ready line (above 20, a summary is printed)
  --only GROUP    (start) Serve only the functions of deploy.group GROUP
  --forward GROUP=URL
                  (start) Forward the routes of deploy.group GROUP to its server at URL
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
  build: () => import('./commands/build.js'),
  init: () => import('./commands/init.js'),
  invoke: () => import('./commands/invoke.js'),
  new: () => import('./commands/new-function.js'),
  schema: () => import('./commands/schema.js'),
  trigger: () => import('./commands/trigger.js'),
  tune: () => import('./commands/tune.js'),
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
        only: { type: 'string' },
        routes: { type: 'boolean' },
        forward: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (error) {
    return fail(`${(error as Error).message}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  if (values.version) return void process.stdout.write(`${fngateVersion()}\n`);

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

  const forward = parseForward(values.forward ?? []);
  if (typeof forward === 'string') return fail(forward);
  await serve({
    config: values.config ?? 'config.yaml',
    mode: command,
    watch: command === 'dev',
    logRequests: command === 'dev' && !values.quiet,
    debug: inspectUrl !== undefined,
    ...(port !== undefined && { port }),
    ...(values.host !== undefined && { host: values.host }),
    ...(inspectUrl !== undefined && { inspectUrl }),
    ...(values.only !== undefined && { only: values.only }),
    ...(values.routes === true && { routes: true }),
    ...(Object.keys(forward).length > 0 && { forward }),
  });
}

const DEFAULT_INSPECT = '127.0.0.1:9229';

/** `[HOST:]PORT` as node's --inspect takes it. */
function parseInspect(value: string): { host: string; port: number } | string {
  const match = /^(?:(.+):)?(\d+)$/.exec(value);
  const port = Number(match?.[2]);
  if (!match || !Number.isInteger(port) || port > 65535) return `invalid --inspect "${value}": expected [HOST:]PORT, e.g. --inspect=9230`;
  return { host: match[1] ?? '127.0.0.1', port };
}



function fail(message: string): void {
  process.stderr.write(`fngate: ${message}\n`);
  process.exitCode = 1;
}
