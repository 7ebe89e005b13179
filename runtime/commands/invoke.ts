import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { STATUS_CODES } from 'node:http';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { TrieRouter } from 'hono/router/trie-router';
import { ConfigError } from '../config/config-error.js';
import { loadConfig } from '../config/load-config.js';
import type { ResolvedFunction } from '../config/resolve-config.js';
import { FngateError } from '../common/errors.js';
import { consoleLogger } from '../common/logger.js';
import { createBundleDir } from '../bundle/bundle-dir.js';
import { Reply, type TaskEnvelope, type TaskReply } from '../protocol/messages.js';
import { FunctionRegistry } from '../registry/function-registry.js';

const USAGE = `Usage: fngate invoke NAME [options]

Runs function NAME once, without a server: the same build, worker pool and contract as a
request through fngate dev. The response body goes to stdout; the status line and headers go
to stderr. Exit code 0 for a 1xx-3xx response, 1 for 4xx/5xx or an fngate error (timeout,
crash, build failure), 2 for bad usage.

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
    config = loadConfig(resolve(values.config ?? 'config.yaml'));
  } catch (error) {
    if (error instanceof ConfigError) return failWith(error.message);
    throw error;
  }
  const fn = config.functions[name];
  if (fn === undefined) return failWith(`no function "${name}" in ${config.file}; there are: ${Object.keys(config.functions).join(', ')}`);

  const request = buildRequest(fn, values);
  if (typeof request === 'string') return usageError(request);

  const outDir = await createBundleDir(config.root);
  const registry = new FunctionRegistry({ root: config.root, outDir, nodeEnv: process.env.NODE_ENV ?? 'development', logger: consoleLogger, invoke: true });
  let reply: TaskReply | undefined;
  let failure: FngateError | undefined;
  try {
    const deployed = await registry.add(fn);
    if (!deployed.ok) {
      failure = deployed.error;
    } else {
      const envelope: TaskEnvelope = [1, request.method, request.url, request.headers, request.body, request.params, 0];
      reply = await registry.invoke(name, envelope).promise;
    }
  } catch (error) {
    failure = error instanceof FngateError ? error : new FngateError('FNGATE_INTERNAL_ERROR', String(error));
  } finally {
    await registry.close();
    await rm(outDir, { recursive: true, force: true });
  }

  if (failure !== undefined) {
    // A stack starts with the message itself: then it is printed once.
    const explained = failure.detail === undefined ? failure.message : failure.detail.startsWith(failure.message) ? failure.detail : `${failure.message}\n${failure.detail}`;
    process.stderr.write(`HTTP ${failure.status} ${failure.code}\n${explained}\n`);
    process.exitCode = 1;
    return;
  }
  printReply(reply!);
}

interface InvokeRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: string[];
  readonly body: ArrayBuffer | null;
  readonly params: Record<string, string> | null;
}

function buildRequest(
  fn: ResolvedFunction,
  values: { data?: string | undefined; method?: string | undefined; path?: string | undefined; header?: string[] | undefined },
): InvokeRequest | string {
  const route = fn.routes[0]!;
  const method = (values.method ?? (values.data !== undefined ? 'POST' : route.method === 'ANY' ? 'GET' : route.method)).toUpperCase();
  let target = values.path;
  if (target === undefined) {
    if (/[:*]/.test(route.path)) return `the route "${route.source}" has parameters: pass the request path with --path`;
    target = route.path;
  }
  if (!target.startsWith('/')) return `--path must start with "/", got "${target}"`;
  const url = new URL(target, 'http://localhost');

  // The route parameters, matched as the gateway would.
  const router = new TrieRouter<string>();
  for (const r of fn.routes) router.add(r.method === 'ANY' ? 'ALL' : r.method, r.path, r.source);
  const [matches] = router.match(method === 'HEAD' ? 'GET' : method, url.pathname);
  if (matches.length === 0) {
    return `${method} ${url.pathname} matches no route of ${fn.name} (${fn.routes.map((r) => r.source).join(', ')})`;
  }
  const raw = matches[0]![1] as Record<string, string>;
  const params = Object.keys(raw).length > 0 ? Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, decodeURIComponent(v)])) : null;

  const headers = ['host', 'localhost'];
  for (const header of values.header ?? []) {
    const colon = header.indexOf(':');
    if (colon <= 0) return `invalid header "${header}": expected "Name: value"`;
    headers.push(header.slice(0, colon).trim().toLowerCase(), header.slice(colon + 1).trim());
  }
  let body: ArrayBuffer | null = null;
  if (values.data !== undefined) {
    if (method === 'GET' || method === 'HEAD') return `--data cannot be sent with ${method}`;
    let bytes: Buffer;
    try {
      bytes = values.data === '@-' ? readFileSync(0) : values.data.startsWith('@') ? readFileSync(values.data.slice(1)) : Buffer.from(values.data);
    } catch (error) {
      return `cannot read --data ${values.data}: ${(error as Error).message}`;
    }
    body = new Uint8Array(bytes).buffer;
    headers.push('content-length', String(bytes.byteLength));
    if (!headers.includes('content-type') && values.data.trimStart().match(/^[[{]/)) headers.push('content-type', 'application/json');
  }
  return { method, url: url.href, headers, body, params };
}

function printReply(reply: TaskReply): void {
  const status = reply[Reply.status];
  const lines = [`HTTP ${status} ${STATUS_CODES[status] ?? ''}`.trimEnd()];
  const headers = reply[Reply.headers];
  for (let i = 0; i < headers.length; i += 2) lines.push(`${headers[i]}: ${headers[i + 1]}`);
  lines.push(`server-timing: run;dur=${reply[Reply.runMs]}`);
  process.stderr.write(`${lines.join('\n')}\n\n`);
  const body = reply[Reply.body];
  if (body !== null) process.stdout.write(typeof body === 'string' ? body : new Uint8Array(body));
  if (status >= 400) process.exitCode = 1;
}

function usageError(message: string): void {
  process.stderr.write(`fngate invoke: ${message}\n\n${USAGE}\n`);
  process.exitCode = 2;
}

function failWith(message: string): void {
  process.stderr.write(`fngate invoke: ${message}\n`);
  process.exitCode = 1;
}
