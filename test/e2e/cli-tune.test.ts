import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { StepFigures } from '../../runtime/tuning/ladder.js';
import type { Recommendation } from '../../runtime/tuning/recommendation.js';
import { runCli } from '../helpers/cli.js';
import { createProject, type TempProject } from '../helpers/project.js';

// fngate tune as a user runs it: the real CLI, runtime, threads and HTTP load, with short steps.
// This machine is shared and noisy: the assertions are about which way the recommendation goes,
// never about speeds.

const CONFIG = `# tune test project
defaults:
  timeout: 30s          # queue wait + run

functions:
  spin:                 # computes for about 30 ms
    routes: GET /spin
    timeout: 20s        # kept comment
  upstream:             # waits 50 ms for a pretend upstream
    routes: GET /upstream
  flaky:
    routes: GET /flaky
  item:
    routes: GET /items/:id
  picky:
    routes: POST /picky
  locked:               # 10 ms of work under a lock every thread shares
    routes: GET /locked
    sharedMemory: 1kb
`;

async function project(): Promise<TempProject> {
  return createProject({
    'config.yaml': CONFIG,
    'functions/spin.ts': 'export default () => {\n  const end = performance.now() + 30;\n  while (performance.now() < end);\n  return "spun";\n};\n',
    'functions/upstream.ts': "import { setTimeout as sleep } from 'node:timers/promises';\nexport default async () => {\n  await sleep(50);\n  return { ok: true };\n};\n",
    // Answers the probe, then fails every fifth request under load.
    'functions/flaky.ts': 'let n = 0;\nexport default () => {\n  if (++n % 5 === 0) throw new Error("every fifth request fails");\n  return "ok";\n};\n',
    'functions/locked.ts': `export default (req: Request, ctx: { shared: SharedArrayBuffer }) => {
  const lock = new Int32Array(ctx.shared);
  while (Atomics.compareExchange(lock, 0, 0, 1) !== 0) Atomics.wait(lock, 0, 1);
  try {
    const end = performance.now() + 10;
    while (performance.now() < end);
  } finally {
    Atomics.store(lock, 0, 0);
    Atomics.notify(lock, 0, 1);
  }
  return 'done';
};
`,
    'functions/item.ts': 'export default (req: Request, ctx: { params: Record<string, string> }) => ctx.params.id;\n',
    'functions/picky.ts': 'export default async (req: Request) => {\n  const text = await req.text();\n  return text === "" ? new Response("a body, please", { status: 400 }) : text;\n};\n',
  });
}

interface TuneJson {
  readonly machine: { readonly cores: number };
  readonly steps: readonly (StepFigures & { connections: number })[];
  readonly stopped: string | null;
  readonly recommendation: Recommendation;
}

async function tuneJson(dir: TempProject, args: string[]): Promise<TuneJson> {
  const cli = runCli(['tune', ...args, '--json'], { cwd: dir.dir });
  const code = await cli.exited;
  expect(code, cli.stderr()).toBe(0);
  return JSON.parse(cli.stdout()) as TuneJson;
}

const ladder = (result: TuneJson) => result.steps.map((step) => `${step.threads}x${step.concurrency}`);

describe('fngate tune', () => {
  it('recommends a CPU-bound function one request per thread and more threads, up to the cores', async () => {
    const dir = await project();
    const cores = Math.min(availableParallelism(), 2);
    const result = await tuneJson(dir, ['spin', '--duration', '1.5s', '--max-threads', String(cores)]);
    expect(result.machine.cores).toBe(availableParallelism());
    // Threads climbed at concurrency 1; concurrency was never tried.
    expect(ladder(result)).toEqual(Array.from({ length: cores }, (_, i) => `${i + 1}x1`));
    expect(result.recommendation).toMatchObject({ basis: 'load test', kind: 'cpu', settings: { concurrency: 1, maxThreads: cores } });
    expect(result.recommendation.reasons.concurrency).toMatch(/^CPU-bound: \d+ ms CPU per request/);
  });

  it('tells an I/O-bound function to raise concurrency, not threads', async () => {
    const dir = await project();
    const result = await tuneJson(dir, ['upstream', '--duration', '1s', '--max-threads', '2']);
    expect(ladder(result).slice(0, 2)).toEqual(['1x1', '1x4']);
    expect(result.recommendation.kind).toBe('io');
    expect(result.recommendation.settings.maxThreads).toBe(1);
    expect(result.recommendation.settings.concurrency).toBeGreaterThanOrEqual(4);
    if (result.steps.some((step) => step.threads === 2)) expect(result.recommendation.reasons.maxThreads).toContain('raise concurrency, not threads');
  });

  it('tells that threads wait for each other when a second one makes each request slower on its thread', async () => {
    const dir = await project();
    const result = await tuneJson(dir, ['locked', '--duration', '1.5s', '--max-threads', '2']);
    expect(ladder(result)).toEqual(['1x1', '2x1']);
    // With idle cores that is a shared resource; with the cores full tune says it cannot tell
    // which: either way it names the slowdown and the two threads waiting for each other.
    const warnings = result.recommendation.warnings.join('\n');
    expect(warnings).toMatch(/while each request took [\d.]+ ms on its thread instead of [\d.]+ ms/);
    expect(warnings).toContain('each other');
  });

  it("prints the steps as a table, the machine's cores, the load generator's share of a core and the recommendation with its reasons", async () => {
    const dir = await project();
    const cli = runCli(['tune', 'spin', '--duration', '1s', '--max-threads', '1'], { cwd: dir.dir });
    expect(await cli.exited, cli.stderr()).toBe(0);
    const out = cli.stdout();
    expect(out).toMatch(/^threads +concurrency +conns +req\/s +p50 +p99 +CPU\/req +run\/req +heap\/thread +machine +gateway +load gen$/m);
    expect(out).toMatch(/^ +1 +1 +2 +[\d.,]+ +\d+ ms +\d+ ms +[\d.]+ ms +[\d.]+ ms +[\d.]+ MB +\d+% +\d+% +\d+%$/m);
    expect(out).toContain(`These figures are for this machine only: ${availableParallelism()} cores`);
    expect(out).toMatch(/load generator, whose thread was busy \d+% of one core/);
    expect(out).toMatch(/^ +maxThreads: 1 +1 thread: [\d.]+ req\/s$/m);
    expect(out).toMatch(/^ +concurrency: 1 +CPU-bound: /m);
    expect(out).toMatch(/^ +memoryLimit: \d+mb +peak heap [\d.]+ MB per thread, x2 for headroom$/m);
    expect(out).toMatch(/^ +timeout: \d+s +p99 \d+ ms x 5/m);
    expect(out).toContain('to apply: fngate tune spin --write');
    // Nothing written without --write.
    expect(await readFile(dir.path('config.yaml'), 'utf8')).toBe(CONFIG);
  });

  it("with --write sets only that function's keys in config.yaml, keeping every comment, and prints the diff", async () => {
    const dir = await project();
    const cli = runCli(['tune', 'spin', '--duration', '1s', '--max-threads', '1', '--write'], { cwd: dir.dir });
    expect(await cli.exited, cli.stderr()).toBe(0);
    const written = await readFile(dir.path('config.yaml'), 'utf8');
    const before = CONFIG.split('\n');
    const after = written.split('\n');
    const removed = before.filter((line) => !after.includes(line));
    const added = after.filter((line) => !before.includes(line));
    // spin's timeout changed in place (its comment kept), its other settings added under it.
    expect(removed).toEqual(['    timeout: 20s        # kept comment']);
    expect(added[0]).toMatch(/^ {4}timeout: \d+s +# kept comment$/);
    expect(added.slice(1)).toEqual(['    maxThreads: 1', '    concurrency: 1', expect.stringMatching(/^ {4}memoryLimit: \d+mb$/)]);
    expect(written.indexOf('    maxThreads: 1')).toBeGreaterThan(written.indexOf('  spin:'));
    expect(written.indexOf('    maxThreads: 1')).toBeLessThan(written.indexOf('  upstream:'));
    expect(cli.stdout()).toContain('wrote config.yaml');
    expect(cli.stdout()).toContain('\n-    timeout: 20s        # kept comment\n');
    expect(cli.stdout()).toContain('\n+    maxThreads: 1\n');
  });

  it('stops the ladder at the first step with failures and reports them, with no recommendation', async () => {
    const dir = await project();
    const cli = runCli(['tune', 'flaky', '--duration', '1s'], { cwd: dir.dir });
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toMatch(/stopped at 1 thread x concurrency 1 \(2 connections\): \d+ of \d+ requests failed \(\d+ x 500\); fngate: FNGATE_FUNCTION_ERROR x \d+; last: (Error: )?every fifth request fails/);
    expect(cli.stderr()).toContain('no step completed: nothing to recommend');
    expect(cli.stdout()).toBe('');
  });

  it('refuses with a usage error a function whose route needs parameters, or that does not answer the request with 2xx', async () => {
    const dir = await project();
    const params = runCli(['tune', 'item'], { cwd: dir.dir });
    expect(await params.exited).toBe(2);
    expect(params.stderr()).toContain('fngate tune: the route "GET /items/:id" has parameters: pass the request path with --path');

    const body = runCli(['tune', 'picky'], { cwd: dir.dir });
    expect(await body.exited).toBe(2);
    expect(body.stderr()).toContain('fngate tune: tune needs a request picky answers with 2xx, and POST /picky answered 400: a body, please; describe one with --path, --method, --data and -H');
  });
});
