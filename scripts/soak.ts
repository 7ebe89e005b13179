/**
 * Soak test: `npm run soak [-- --duration 60 --concurrency 16]`.
 *
 * Runs the gateway (in this process, so it can read its own RSS and thread counts) with the demo
 * functions plus the fault functions from test/fixtures/faults, and drives it from a child
 * process with a mix of normal, throwing, timing-out, crashing, out-of-memory, oversized and
 * disconnecting requests, large string results, clients that stop reading a large response, and
 * responses Node refuses to write (a trailer header) with a request pipelined behind them.
 * Prints a table, with the p99 of light requests while those heavy kinds were in flight, and
 * exits 1 if any request was lost (no answer, reset), got a status its kind should not get (a
 * normal request failing, a crash reported as a timeout), a pool holds more threads than its
 * maxThreads, or a function does not answer normally after.
 */
import { spawn } from 'node:child_process';
import { cp, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createRuntime } from '../runtime/index.js';
import type { Logger } from '../runtime/common/logger.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));

const CONFIG = `
server:
  sendTimeout: 2s   # clients that stop reading are cut within the soak
defaults:
  minThreads: 1
  maxThreads: 2
  maxQueue: 64
  timeout: 5s
functions:
  hello:    { routes: [GET /hello, GET /hello/:name] }
  sort:     { routes: GET /sort, timeout: 60s }
  echo:     { routes: POST /echo }
  hash:     { routes: POST /hash }
  api:      { routes: ANY /api/*, maxThreads: 1 }
  validate: { routes: POST /validate }
  timeout:  { routes: GET /timeout, timeout: 300ms, maxThreads: 1 }
  crash:    { routes: GET /crash, maxThreads: 1 }
  oom:      { routes: GET /oom, memoryLimit: 32mb, maxThreads: 1 }
  throws:   { routes: [GET /throws, POST /throws/json] }
  busy:     { routes: GET /busy, maxQueue: 64 }
  big:      { routes: GET /big, memoryLimit: 256mb, timeout: 60s }   # heavy: may queue behind sort on 2 cores
  trailer:  { routes: GET /trailer }
`;

/** Results the gateway must only forward (?mb=N&as=string|bytes), and a header Node refuses. */
const EXTRA_FUNCTIONS: Record<string, string> = {
  'big.ts': `export default (req: Request) => {
  const url = new URL(req.url);
  const size = Number(url.searchParams.get('mb')) * 2 ** 20;
  return url.searchParams.get('as') === 'bytes' ? new Uint8Array(size) : 'x'.repeat(size);
};
`,
  'trailer.ts': "export default () => new Response('ok', { headers: { trailer: 'x-checksum' } });\n",
};

/** After the soak every function must still answer normally. */
const HEALTH_CHECKS: [path: string, init?: RequestInit][] = [
  ['/hello/after'],
  ['/sort?size=1000'],
  ['/echo', { method: 'POST', body: 'after' }],
  ['/hash', { method: 'POST', body: 'after' }],
  ['/api/users/1'],
  ['/validate', { method: 'POST', body: '{"email":"a@b.co","name":"A"}' }],
  ['/timeout?mode=ok'],
  ['/crash?mode=ok'],
  ['/oom?mode=ok'],
  ['/throws?mode=ok'],
  ['/busy?ms=1'],
  ['/big?mb=1'],
];

interface ClientSummary {
  sent: number;
  byStatus: Record<string, number>;
  byKind: Record<string, Record<string, number>>;
  disconnected: number;
  lost: string[];
  /** Answers with a status their kind should not get (a normal request failing, say). */
  unexpected: string[];
  /** p99 (ms) of light requests (hello) while a large result, a stalled client or a trailer was in flight, and otherwise. */
  lightP99: { during: number; otherwise: number; samplesDuring: number };
}

const { values } = parseArgs({
  options: { duration: { type: 'string', default: '60' }, concurrency: { type: 'string', default: '16' } },
});
const duration = Number(values.duration);
const concurrency = Number(values.concurrency);

const project = await mkdtemp(join(tmpdir(), 'fngate-soak-'));
await cp(join(REPO, 'functions'), join(project, 'functions'), { recursive: true });
await cp(join(REPO, 'test/fixtures/faults/functions'), join(project, 'functions'), { recursive: true });
await symlink(join(REPO, 'node_modules'), join(project, 'node_modules'), 'dir');
await writeFile(join(project, 'config.yaml'), CONFIG);
for (const [file, source] of Object.entries(EXTRA_FUNCTIONS)) await writeFile(join(project, 'functions', file), source);

const incidents: string[] = [];
const logger: Logger = { info: () => {}, warn: (m) => void incidents.push(m), error: (m) => void incidents.push(m) };
const runtime = await createRuntime({ cwd: project, port: 0, mode: 'start', logger });
await runtime.warmed();
let failed = false;
try {
  const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
  const started = Date.now();
  const rssStart = process.memoryUsage().rss;
  let rssPeak = rssStart;
  let rssAt10s: number | undefined;
  const sampler = setInterval(() => {
    const rss = process.memoryUsage().rss;
    rssPeak = Math.max(rssPeak, rss);
    if (rssAt10s === undefined && Date.now() - started >= Math.min(10_000, (duration * 1000) / 2)) rssAt10s = rss;
  }, 250);

  console.log(`soak: ${duration} s, ${concurrency} concurrent clients against ${runtime.url} (gateway pid ${process.pid})`);
  const summary = await runClient(runtime.url);
  clearInterval(sampler);
  const rssEnd = process.memoryUsage().rss;

  // Let the last runaway requests be stopped and their threads replaced before checking health.
  const deadline = Date.now() + 15_000;
  while (runtime.functions().some((fn) => fn.running + fn.queued > 0) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const health = await Promise.all(
    HEALTH_CHECKS.map(async ([path, init]) => [path, (await fetch(`${runtime.url}${path}`, init)).status] as const),
  );
  const unhealthy = health.filter(([, status]) => status !== 200);
  const pools = runtime.functions();
  const overLimit = pools.filter((fn) => fn.threads > fn.maxThreads);

  const rows: [string, string][] = [
    ['duration', `${duration} s, ${concurrency} concurrent clients`],
    ['requests sent', String(summary.sent)],
    ...Object.entries(summary.byStatus)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([status, count]) => [`answered ${status}`, String(count)] as [string, string]),
    ['client disconnected on purpose', String(summary.disconnected)],
    [
      'light p99 while large results / stalled clients / trailers in flight',
      `${summary.lightP99.during} ms (${summary.lightP99.samplesDuring} requests), otherwise ${summary.lightP99.otherwise} ms`,
    ],
    ['lost (no answer, reset)', String(summary.lost.length)],
    ['unexpected status for its kind', String(summary.unexpected.length)],
    ['gateway RSS start / peak / end', `${mb(rssStart)} / ${mb(rssPeak)} / ${mb(rssEnd)} MB (threads, heaps and pools included)`],
    [
      'RSS end / RSS after 10 s of load (leak check)',
      rssAt10s === undefined ? 'n/a' : `${(rssEnd / rssAt10s).toFixed(2)} (${mb(rssAt10s)} -> ${mb(rssEnd)} MB)`,
    ],
    ['threads at end (max allowed)', pools.map((fn) => `${fn.name} ${fn.threads}/${fn.maxThreads}`).join(', ')],
    ['every function answers 200 after', unhealthy.length === 0 ? 'yes' : `no: ${unhealthy.map(([p, s]) => `${p} ${s}`).join(', ')}`],
    ['incidents logged (crash loops, idle crashes, refused responses, cut clients)', String(incidents.length)],
  ];
  console.log('\n| soak | result |\n| --- | --- |');
  for (const [name, value] of rows) console.log(`| ${name} | ${value} |`);
  console.log('\nper request kind (status: count):');
  for (const [kind, counts] of Object.entries(summary.byKind).sort()) {
    console.log(`  ${kind.padEnd(20)} ${Object.entries(counts).map(([s, n]) => `${s}: ${n}`).join(', ')}`);
  }
  if (summary.lost.length > 0) console.log(`\nlost requests:\n  ${summary.lost.slice(0, 20).join('\n  ')}`);
  if (summary.unexpected.length > 0) console.log(`\nunexpected statuses:\n  ${summary.unexpected.slice(0, 20).join('\n  ')}`);
  for (const incident of incidents.slice(0, 5)) console.log(`\nincident: ${incident.split('\n')[0]}`);
  failed = summary.lost.length > 0 || summary.unexpected.length > 0 || overLimit.length > 0 || unhealthy.length > 0;
} finally {
  await runtime.close();
  await rm(project, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;

function runClient(url: string): Promise<ClientSummary> {
  return new Promise((resolve, reject) => {
    const client = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./soak-client.ts', import.meta.url)), url, String(duration), String(concurrency)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    client.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    client.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`the soak client exited with ${code}`));
      resolve(JSON.parse(output.trim().split('\n').at(-1)!) as ClientSummary);
    });
  });
}
