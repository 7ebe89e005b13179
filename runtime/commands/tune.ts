import { readFile } from 'node:fs/promises';
import { availableParallelism, cpus } from 'node:os';
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/config-error.js';
import { withFunctionSettings } from '../config/edit-config.js';
import { loadConfig, parseConfig } from '../config/load-config.js';
import type { ResolvedFunction } from '../config/resolve-config.js';
import { DURATION_PATTERN, parseDuration, parseSize } from '../config/units.js';
import { nextStep } from '../tuning/ladder.js';
import { LoadGenerator } from '../tuning/load-generator.js';
import { recommendFromLadder } from '../tuning/recommend-from-ladder.js';
import type { Recommendation } from '../tuning/recommendation.js';
import { lineDiff } from './line-diff.js';
import { buildRequest } from './one-function.js';
import { replaceFile } from './replace-file.js';
import { recommendationText, stepTable, TABLE_NOTES, type ReportedStep } from './tune-report.js';
import { runStep } from './tune-step.js';
import { commandOutput, QUIET_LOGGER } from './command-output.js';

const USAGE = `Usage: fngate tune NAME [options]

Measures function NAME under load and recommends its maxThreads, concurrency, memoryLimit and
timeout, with the figures behind each. It builds NAME as fngate dev does, serves it alone on a
private loopback port (NODE_ENV=production) and drives it with HTTP load through fngate's own
gateway (autocannon, on a thread of its own) at a ladder of settings: one request at a time on
1, 2, ... threads up to the cores, and for a handler that waits on I/O, 1, 4 and 16 requests at
once on one thread first. Each step measures for --duration after a short warm-up. Failures
under load (5xx, timeouts) stop the ladder and are reported. The figures are for this machine,
which the load generator shares.

Options:
  --path P             Request path and query (default: the function's first route;
                       required when that route has :params or *)
  --method M           (default: POST with --data, else the route's method, else GET)
  --data TEXT|@FILE    Request body: the text itself or a file's bytes
  -H, --header "K: V"  A request header (repeatable)
  --duration D         Measured time per step: 10s, 1500ms, 1m, or seconds   (default: 10s)
  --max-threads N      Top of the threads ladder                          (default: the cores)
  --write              Apply the recommendation to NAME in config.yaml (comments and the
                       order of keys kept) and print the diff; fngate dev reloads it
  --json               Print the steps and the recommendation as JSON
  --config FILE        (default: ./config.yaml)
  -h, --help           Show this help

Example: fngate tune hash --path '/hash?rounds=20000' --data 'some text' --duration 5s --write`;

/** `fngate tune NAME`: the ladder, its table and the recommendation; process.exitCode tells how it went. */
export async function run(argv: readonly string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        data: { type: 'string' },
        method: { type: 'string' },
        path: { type: 'string' },
        header: { type: 'string', short: 'H', multiple: true },
        duration: { type: 'string' },
        'max-threads': { type: 'string' },
        write: { type: 'boolean' },
        json: { type: 'boolean' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return usageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  if (positionals.length !== 1) return usageError(positionals.length === 0 ? 'which function? fngate tune NAME' : `unexpected argument "${positionals[1]}"`);
  const name = positionals[0]!;
  if (values.data === '@-') return usageError('--data @- (stdin) cannot be replayed under load: use --data @FILE');
  const seconds = parseSeconds(values.duration ?? '10s');
  if (seconds === undefined) return usageError(`invalid --duration "${values.duration}": expected e.g. 10s, 1500ms, 1m or a number of seconds`);
  const cores = availableParallelism();
  const maxThreads = values['max-threads'] === undefined ? cores : Number(values['max-threads']);
  if (!Number.isInteger(maxThreads) || maxThreads < 1 || maxThreads > 256) return usageError(`invalid --max-threads "${values['max-threads']}": expected 1-256`);

  let config;
  try {
    config = loadConfig(resolve(values.config ?? 'config.yaml'));
  } catch (error) {
    if (error instanceof ConfigError) return failWith(error.message);
    throw error;
  }
  const fn = config.functions[name];
  if (fn === undefined) return failWith(`no function "${name}" in ${config.file}; there are: ${Object.keys(config.functions).join(', ')}`);
  const request = buildRequest(fn, values);
  if (typeof request === 'string') return usageError(request);

  const warmupSeconds = Math.min(2, Math.max(0.5, seconds / 5));
  const say = values.json ? () => {} : (line: string) => void process.stderr.write(`${line}\n`);
  say(`fngate tune ${name}: ${request.method} ${request.path}, ${formatSeconds(seconds)} per step after ${formatSeconds(warmupSeconds)} of warm-up`);
  let load: LoadGenerator;
  try {
    load = await LoadGenerator.start();
  } catch (error) {
    return failWith(`cannot start the load generator (autocannon, a dependency of fngate): ${(error as Error).message}`);
  }
  const steps: ReportedStep[] = [];
  let stopped: string | undefined;
  try {
    for (let next = nextStep(steps, maxThreads); next !== null; next = nextStep(steps, maxThreads)) {
      const label = `${next.threads} thread${next.threads === 1 ? '' : 's'} x concurrency ${next.concurrency}`;
      say(`  measuring ${label}...`);
      const outcome = await runStep({ config, fn, request, settings: next, load, seconds, warmupSeconds, probe: steps.length === 0, logger: QUIET_LOGGER });
      if ('unavailable' in outcome) return failWith(`${name} does not serve: ${outcome.unavailable}`);
      if ('refused' in outcome) {
        return usageError(`tune needs a request ${name} answers with 2xx, and ${outcome.refused}; describe one with --path, --method, --data and -H`);
      }
      if ('failures' in outcome) {
        stopped = `stopped at ${label} (${outcome.connections} connections): ${outcome.failures}`;
        break;
      }
      steps.push({ ...outcome.figures, connections: outcome.connections });
    }
  } finally {
    await load.close();
  }
  if (steps.length === 0) return failWith(`${stopped}\nno step completed: nothing to recommend`);

  const advice = recommendFromLadder(steps, { name, cores, current: fn, ...(stopped !== undefined && { stopped }) });
  const machine = { cores, cpu: cpus()[0]?.model.trim() ?? 'unknown', node: process.version };
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ function: name, request: { method: request.method, path: request.path }, machine, seconds, steps, stopped: stopped ?? null, recommendation: advice }, null, 2)}\n`);
  } else {
    process.stdout.write(
      `\n${stepTable(steps)}\n` +
        `These figures are for this machine only: ${cores} cores (${machine.cpu}), Node ${machine.node}, shared with the\n` +
        `load generator, whose thread was busy ${range(steps.map((step) => step.loadBusy))} of one core.\n` +
        `${TABLE_NOTES}\n${recommendationText(advice)}`,
    );
  }
  if (stopped !== undefined) {
    process.exitCode = 1;
    if (values.write) process.stderr.write('fngate tune: not writing config.yaml: the ladder stopped on failures\n');
    return;
  }
  if (values.write) await write(config.file, fn, advice, !values.json);
  else if (!values.json) process.stdout.write(`\nto apply: fngate tune ${name} --write (same options), or paste into functions: in config.yaml:\n${indent(advice.yaml)}`);
}

/** Sets the recommended values that differ from the function's own on it in config.yaml, and prints the diff. */
async function write(file: string, fn: ResolvedFunction, advice: Recommendation, print: boolean): Promise<void> {
  const { settings } = advice;
  const changes: Record<string, string | number> = {};
  if (settings.minThreads !== undefined && settings.minThreads !== fn.minThreads) changes.minThreads = settings.minThreads;
  if (settings.maxThreads !== fn.maxThreads) changes.maxThreads = settings.maxThreads;
  if (settings.concurrency !== fn.concurrency) changes.concurrency = settings.concurrency;
  if (parseSize(settings.memoryLimit) !== fn.memoryLimit) changes.memoryLimit = settings.memoryLimit;
  if (parseDuration(settings.timeout) !== fn.timeout) changes.timeout = settings.timeout;
  const shown = relative(process.cwd(), file) || file;
  if (Object.keys(changes).length === 0) {
    if (print) process.stdout.write(`\n${shown} already has these settings for ${fn.name}: nothing to write\n`);
    return;
  }
  const text = await readFile(file, 'utf8');
  const updated = withFunctionSettings(text, fn.name, changes);
  if (typeof updated !== 'string') return failWith(`not written: ${updated.error}`);
  try {
    parseConfig(updated, file); // never leave config.yaml invalid
  } catch (error) {
    if (error instanceof ConfigError) return failWith(`not written, it would make ${shown} invalid: ${error.message}`);
    throw error;
  }
  await replaceFile(file, updated);
  if (print) process.stdout.write(`\nwrote ${shown} (a running fngate dev reloads ${fn.name} with it):\n${lineDiff(text, updated, shown)}`);
}

/** `10s`, `1500ms`, `1m` or a bare number of seconds, as seconds; undefined when invalid or under 100 ms. */
function parseSeconds(text: string): number | undefined {
  const seconds = /^\d+(\.\d+)?$/.test(text) ? Number(text) : DURATION_PATTERN.test(text) ? parseDuration(text) / 1000 : NaN;
  return seconds >= 0.1 && seconds <= 3600 ? seconds : undefined;
}

function formatSeconds(seconds: number): string {
  return seconds >= 60 && seconds % 60 === 0 ? `${seconds / 60} min` : `${Number(seconds.toFixed(2))} s`;
}

/** `4%` or `3-9%`. */
function range(shares: readonly number[]): string {
  const low = Math.round(Math.min(...shares) * 100);
  const high = Math.round(Math.max(...shares) * 100);
  return low === high ? `${high}%` : `${low}-${high}%`;
}

function indent(text: string): string {
  return text.replace(/^/gm, '  ').replace(/ {2}$/, '');
}

const { usageError, failWith } = commandOutput('tune', USAGE);
