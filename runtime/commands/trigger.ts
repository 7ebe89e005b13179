import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Logger } from '../common/logger.js';
import { ConfigError } from '../config/config-error.js';
import { loadEnvFiles, withEnvFiles } from '../config/env-files.js';
import { loadConfig } from '../config/load-config.js';
import type { ResolvedConfig } from '../config/resolve-config.js';
import { createRuntime } from '../create-runtime.js';
import { commandOutput } from './command-output.js';

const USAGE = `Usage: fngate trigger NAME [--config FILE]

Runs scheduled function NAME once, now, as its schedule would (like wrangler's
--test-scheduled), and exits: the same build, pool, limits and scheduled event as under fngate
dev, on threads of its own. Its console output goes to stderr. Exit code 0 when the run
succeeded, 1 when it failed (threw, timed out, crashed, or the function has no good build),
2 for bad usage. A running fngate dev triggers with POST /_fngate/trigger/NAME instead.

Options:
  --config FILE   (default: ./config.yaml)
  -h, --help      Show this help`;

/** `fngate trigger NAME`: process.exitCode tells how the run went. */
export async function run(argv: readonly string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (error) {
    return usageError((error as Error).message);
  }
  if (parsed.values.help) return void process.stdout.write(`${USAGE}\n`);
  if (parsed.positionals.length !== 1) return usageError(parsed.positionals.length === 0 ? 'which function? fngate trigger NAME' : `unexpected argument "${parsed.positionals[1]}"`);
  await triggerOnce({ config: resolve(parsed.values.config ?? 'config.yaml'), name: parsed.positionals[0]!, mode: 'dev', prebuilt: false });
}

/**
 * Runs scheduled function `name` of the config file once and sets process.exitCode: `fngate
 * trigger`, and the built server's `--trigger NAME`, which a cluster's CronJob runs.
 */
export async function triggerOnce(options: { config: string; name: string; mode: 'dev' | 'start'; prebuilt: boolean }): Promise<void> {
  const { name } = options;
  let config: ResolvedConfig;
  try {
    config = loadConfig(options.config, { env: withEnvFiles(process.env, loadEnvFiles(dirname(options.config), options.mode)) });
  } catch (error) {
    if (error instanceof ConfigError) return failWith(error.message);
    throw error;
  }
  const fn = config.functions[name];
  if (fn === undefined) return failWith(`no function "${name}" in ${config.file}; there are: ${Object.keys(config.functions).join(', ')}`);
  if (fn.schedule === null) return failWith(`${name} has no schedule in ${config.file}; fngate invoke ${name} sends it a request`);

  const runtime = await createRuntime({
    // The one function, alone, on a private loopback port; it runs when told, not by the clock.
    config: { ...config, server: { ...config.server, admin: false, allowedHosts: true }, functions: { [name]: fn } },
    host: '127.0.0.1',
    port: 0,
    mode: options.mode,
    prebuilt: options.prebuilt,
    logRequests: false,
    invoke: true,
    schedules: false,
    logger: STDERR,
  });
  try {
    const result = await runtime.trigger(name);
    if (result.failure !== null) {
      process.exitCode = 1;
      return;
    }
    process.stdout.write(`✔ ${name}: triggered run done in ${result.ms} ms (schedule "${fn.schedule.cron}")\n`);
  } finally {
    await runtime.close();
  }
}

/** Build and load failures and the run's own failure: stderr, as the function's output. */
const STDERR: Logger = {
  info: () => {},
  warn: (message) => void process.stderr.write(`${message}\n`),
  error: (message) => void process.stderr.write(`${message}\n`),
};

const { usageError, failWith } = commandOutput('trigger', USAGE);
