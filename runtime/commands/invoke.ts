import { request as httpRequest, STATUS_CODES, type IncomingMessage } from 'node:http';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/config-error.js';
import { loadEnvFiles, withEnvFiles } from '../config/env-files.js';
import { loadConfig } from '../config/load-config.js';
import type { ResolvedFunction } from '../config/resolve-config.js';
import { createRuntime, type Runtime } from '../create-runtime.js';
import { buildRequest, onlyFunction, type FunctionRequest } from './one-function.js';
import { commandOutput, QUIET_LOGGER } from './command-output.js';

const USAGE = `Usage: fngate invoke NAME [options]

Runs function NAME once and exits: the same build, gateway, worker pool and contract as a
request through fngate dev, served on a private loopback port for this one request. The
response body goes to stdout as it arrives (a streamed body too); the status line and headers
go to stderr, and so does the function's console output. Exit code 0 for a 1xx-3xx response, 1
for 4xx/5xx or an fngate error (timeout, crash, build failure), 2 for bad usage.

Options:
  --data TEXT|@FILE|@-   Request body: the text itself, a file's bytes, or stdin
  --method M             (default: POST with --data, else the route's method, else GET)
  --path P               Request path and query (default: the function's first route;
                         required when that route has :params or *)
  -H, --header "K: V"    A request header (repeatable)
  --config FILE          (default: ./config.yaml)
  -h, --help             Show this help

Example: fngate invoke hello --path /hello/ada
         fngate invoke validate --data '{"name":"ada"}' -H "content-type: application/json"`;

/** Headers of the loopback connection itself, not of the function's response. */
const TRANSPORT_HEADERS = new Set(['connection', 'keep-alive', 'date', 'transfer-encoding']);

/** `fngate invoke NAME`: one request, printed; process.exitCode tells how it went. */
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
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return usageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return void process.stdout.write(`${USAGE}\n`);
  if (positionals.length !== 1) return usageError(positionals.length === 0 ? 'which function? fngate invoke NAME' : `unexpected argument "${positionals[1]}"`);
  const name = positionals[0]!;

  let config;
  try {
    // As fngate dev reads it: with .env and .env.local.
    const file = resolve(values.config ?? 'config.yaml');
    config = loadConfig(file, { env: withEnvFiles(process.env, loadEnvFiles(dirname(file), 'dev')) });
  } catch (error) {
    if (error instanceof ConfigError) return failWith(error.message);
    throw error;
  }
  const fn = config.functions[name];
  if (fn === undefined) return failWith(`no function "${name}" in ${config.file}; there are: ${Object.keys(config.functions).join(', ')}`);
  if (fn.routes.length === 0) return failWith(`${name} has no routes, only a schedule: run it with fngate trigger ${name}`);

  const request = buildRequest(fn, values);
  if (typeof request === 'string') return usageError(request);

  const runtime = await createRuntime({
    config: onlyFunction(config, fn),
    host: '127.0.0.1',
    port: 0,
    mode: 'dev',
    logRequests: false,
    invoke: true,
    schedules: false,
    logger: QUIET_LOGGER,
  });
  try {
    const response = await send(runtime, request);
    if (!fromFunction(response)) return await printGatewayAnswer(response, fn);
    printHead(response);
    // Streamed to stdout as it comes: a server-sent-events function prints each event at once.
    for await (const chunk of response) process.stdout.write(chunk as Buffer);
    if (response.statusCode! >= 400) process.exitCode = 1;
  } finally {
    await runtime.close();
  }
}

function send(runtime: Runtime, request: FunctionRequest): Promise<IncomingMessage> {
  return new Promise((resolvePromise, reject) => {
    const headers: Record<string, string[]> = {};
    for (let i = 0; i < request.headers.length; i += 2) (headers[request.headers[i]!] ??= []).push(request.headers[i + 1]!);
    const outgoing = httpRequest(`${runtime.url}${request.path}`, { method: request.method, headers, agent: false }, resolvePromise);
    outgoing.on('error', reject);
    outgoing.end(request.body ?? undefined);
  });
}

/** Whether the function answered (its answers carry queue and run times), rather than the gateway with an error. */
function fromFunction(response: IncomingMessage): boolean {
  return response.headers['server-timing']?.includes('queue;dur=') === true;
}

/** An fngate error (build failure, timeout, crash...), printed as code, message and stack. */
async function printGatewayAnswer(response: IncomingMessage, fn: ResolvedFunction): Promise<void> {
  let text = '';
  for await (const chunk of response) text += String(chunk);
  let error: { code?: string; message?: string; stack?: string } | undefined;
  try {
    error = (JSON.parse(text) as { error?: typeof error }).error;
  } catch {
    // not an fngate error body: the function's own JSON answer
  }
  if (error?.code === undefined) {
    printHead(response);
    process.stdout.write(text);
    process.exitCode = 1;
    return;
  }
  if (error.code === 'FNGATE_NOT_FOUND' || error.code === 'FNGATE_METHOD_NOT_ALLOWED') {
    return usageError(`${error.message} (routes of ${fn.name}: ${fn.routes.map((r) => r.source).join(', ')})`);
  }
  const message = error.message ?? '';
  // A stack starts with the message itself: then it is printed once.
  const explained = error.stack === undefined ? message : error.stack.startsWith(message) ? error.stack : `${message}\n${error.stack}`;
  process.stderr.write(`HTTP ${response.statusCode} ${error.code}\n${explained}\n`);
  process.exitCode = 1;
}

function printHead(response: IncomingMessage): void {
  const status = response.statusCode!;
  const lines = [`HTTP ${status} ${STATUS_CODES[status] ?? ''}`.trimEnd()];
  const raw = response.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (!TRANSPORT_HEADERS.has(raw[i]!.toLowerCase())) lines.push(`${raw[i]!.toLowerCase()}: ${raw[i + 1]}`);
  }
  process.stderr.write(`${lines.join('\n')}\n\n`);
}

const { usageError, failWith } = commandOutput('invoke', USAGE);
