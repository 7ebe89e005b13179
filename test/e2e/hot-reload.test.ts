import { readdir, rename, rm, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { COUNTER, devProject, returning, servesEventually, text } from '../helpers/dev-project.js';
import { createProject } from '../helpers/project.js';
import { startRuntime } from '../helpers/runtime.js';
import { waitFor } from '../helpers/wait.js';

describe('hot reload of sources', () => {
  it('serves the new code after a function file is saved', async () => {
    const { project, server } = await devProject({
      'config.yaml': 'functions:\n  hello:\n    routes: GET /hello\n',
      'functions/hello.ts': returning('v1'),
    });
    expect(await text(server, '/hello')).toBe('v1');
    await project.write('functions/hello.ts', returning('v2'));
    await servesEventually(server, '/hello', 'v2');
    await waitFor(() => server.logs.lines.some((line) => /^reloaded hello \(\d+ ms\)$/.test(line)), { what: 'the reload line' });
  });

  it('rebuilds every function importing an edited module, and leaves the others and their state alone', async () => {
    const { project, server } = await devProject({
      'config.yaml': 'functions:\n  a:\n    routes: GET /a\n  b:\n    routes: GET /b\n  counter:\n    routes: GET /counter\n',
      'lib/shared.ts': 'export const word = "one";\n',
      'functions/a.ts': 'import { word } from "../lib/shared";\nexport default () => `a:${word}`;\n',
      'functions/b.ts': 'import { word } from "../lib/shared";\nexport default () => `b:${word}`;\n',
      'functions/counter.ts': COUNTER,
    });
    expect(await text(server, '/counter')).toBe('count 1');
    expect(await text(server, '/counter')).toBe('count 2');
    await project.write('lib/shared.ts', 'export const word = "two";\n');
    await servesEventually(server, '/a', 'a:two');
    await servesEventually(server, '/b', 'b:two');
    expect(await text(server, '/counter')).toBe('count 3');
    expect(server.logs.lines.filter((line) => line.startsWith('reloaded counter'))).toEqual([]);
  });

  it('follows a newly added import: editing the new file reloads the function', async () => {
    const { project, server } = await devProject({
      'config.yaml': 'functions:\n  hello:\n    routes: GET /hello\n',
      'functions/hello.ts': returning('plain'),
    });
    await project.write('lib/fresh.ts', 'export const word = "fresh-1";\n');
    await project.write('functions/hello.ts', 'import { word } from "../lib/fresh";\nexport default () => word;\n');
    await servesEventually(server, '/hello', 'fresh-1');
    await project.write('lib/fresh.ts', 'export const word = "fresh-2";\n');
    await servesEventually(server, '/hello', 'fresh-2');
  });

  it('keeps serving the last good version through a syntax error, prints it with a code frame, and takes the fix', async () => {
    const { project, server } = await devProject({
      'config.yaml': 'functions:\n  hello:\n    routes: GET /hello\n',
      'functions/hello.ts': returning('good'),
    });
    await project.write('functions/hello.ts', 'export default () => {\n  return "half;\n');
    await waitFor(() => server.logs.text().includes('hello failed to build'), { what: 'the build error' });
    expect(server.logs.text()).toMatch(/✘ hello failed to build: functions\/hello\.ts:2:\d+: .*\(still serving the previous version\)/);
    expect(server.logs.text()).toContain('2 │   return "half;');
    expect(await text(server, '/hello')).toBe('good');
    await project.write('functions/hello.ts', returning('fixed'));
    await servesEventually(server, '/hello', 'fixed');
  });

  it('keeps serving the last good version when the new one throws while loading', async () => {
    const { project, server } = await devProject({
      'config.yaml': 'functions:\n  hello:\n    routes: GET /hello\n',
      'functions/hello.ts': returning('good'),
    });
    await project.write('functions/hello.ts', 'throw new Error("not configured");\nexport default () => "never";\n');
    await waitFor(() => server.logs.text().includes('hello failed to load: Error: not configured'), { what: 'the load error' });
    expect(server.logs.text()).toContain('functions/hello.ts:1:7');
    expect(await text(server, '/hello')).toBe('good');
  });

  it('keeps serving when a file is deleted, and reloads when it comes back', async () => {
    const { project, server } = await devProject({
      'config.yaml': 'functions:\n  hello:\n    routes: GET /hello\n',
      'functions/hello.ts': 'import { word } from "../lib/word";\nexport default () => word;\n',
      'lib/word.ts': 'export const word = "before";\n',
    });
    await rm(project.path('lib/word.ts'));
    await waitFor(() => server.logs.text().includes('hello failed to build'), { what: 'the build error' });
    expect(await text(server, '/hello')).toBe('before');
    await project.write('lib/word.ts', 'export const word = "after";\n');
    await servesEventually(server, '/hello', 'after');
  });

  it('picks up atomic saves (write a temp file, rename it over the original)', async () => {
    const { project, server } = await devProject({
      'config.yaml': 'functions:\n  hello:\n    routes: GET /hello\n',
      'functions/hello.ts': returning('v1'),
    });
    await writeFile(project.path('functions/.hello.ts.swp'), returning('atomic'));
    await rename(project.path('functions/.hello.ts.swp'), project.path('functions/hello.ts'));
    await servesEventually(server, '/hello', 'atomic');
  });

  it('picks up a save that lands right after a fast failed build (chokidar drops changes within 50 ms)', async () => {
    const { project, server } = await devProject({
      'config.yaml': 'functions:\n  hello:\n    routes: GET /hello\n',
      'functions/hello.ts': returning('v0'),
    });
    for (let round = 1; round <= 5; round++) {
      const failures = () => server.logs.lines.filter((line) => line.includes('hello failed to build')).length;
      const before = failures();
      await project.write('functions/hello.ts', 'export default () => "broken;\n');
      await waitFor(() => failures() > before, { what: `broken save ${round} to be rejected` });
      await project.write('functions/hello.ts', returning(`v${round}`)); // typically < 50 ms after the previous change
      await servesEventually(server, '/hello', `v${round}`);
    }
  });

  it('ends a burst of saves on the last one', async () => {
    const { project, server } = await devProject({
      'config.yaml': 'functions:\n  hello:\n    routes: GET /hello\n',
      'functions/hello.ts': returning('v0'),
    });
    for (let i = 1; i <= 10; i++) await project.write('functions/hello.ts', returning(`v${i}`));
    await servesEventually(server, '/hello', 'v10');
    await server.runtime.reloadsSettled();
    expect(await text(server, '/hello')).toBe('v10');
  });
});

describe('hot reload of config.yaml', () => {
  const BASE = 'defaults: { minThreads: 1 }\nfunctions:\n  counter:\n    routes: GET /counter\n';

  it('adds a function with its route, and keeps untouched functions and their state', async () => {
    const { project, server } = await devProject({
      'config.yaml': BASE,
      'functions/counter.ts': COUNTER,
      'functions/thumb.ts': returning('thumb!'),
    });
    expect(await text(server, '/counter')).toBe('count 1');
    expect((await server.fetch('/thumb')).status).toBe(404);
    await project.write('config.yaml', `${BASE}  thumb:\n    routes: GET /thumb\n`);
    await servesEventually(server, '/thumb', 'thumb!');
    expect(server.logs.lines).toContain('config: +thumb');
    expect(await text(server, '/counter')).toBe('count 2');
  });

  it('removes a function: its routes answer 404', async () => {
    const { project, server } = await devProject({
      'config.yaml': `${BASE}  thumb:\n    routes: GET /thumb\n`,
      'functions/counter.ts': COUNTER,
      'functions/thumb.ts': returning('thumb!'),
    });
    expect(await text(server, '/thumb')).toBe('thumb!');
    await project.write('config.yaml', BASE);
    await waitFor(async () => (await server.fetch('/thumb')).status === 404, { what: '/thumb to 404' });
    expect(server.logs.lines).toContain('config: -thumb');
    expect(await text(server, '/counter')).toBe('count 1');
  });

  it('changes routes without a new pool: module state carries on', async () => {
    const { project, server } = await devProject({ 'config.yaml': BASE, 'functions/counter.ts': COUNTER });
    expect(await text(server, '/counter')).toBe('count 1');
    await project.write('config.yaml', BASE.replace('GET /counter', '[GET /counter, GET /tally]'));
    await servesEventually(server, '/tally', 'count 2');
    expect(server.logs.lines).toContain('config: ~counter routes [GET /counter, GET /tally]');
  });

  it('applies a new maxThreads, observed from inside the function', async () => {
    const config = (max: number) => `functions:\n  sleeper:\n    routes: GET /sleeper\n    maxThreads: ${max}\n    maxQueue: 20\n    concurrency: 1\n`;
    const { project, server } = await devProject({
      'config.yaml': config(1),
      'functions/sleeper.ts': [
        'import { setTimeout as sleep } from "node:timers/promises";',
        'export default async () => {',
        '  const start = Date.now();',
        '  await sleep(250);',
        '  return { start, end: Date.now() };',
        '};',
      ].join('\n'),
    });
    const peak = async () => {
      const runs = (await Promise.all(
        Array.from({ length: 6 }, async () => (await server.fetch('/sleeper')).json()),
      )) as { start: number; end: number }[];
      return Math.max(...runs.map((run) => runs.filter((other) => other.start <= run.start && other.end > run.start).length));
    };
    expect(await peak()).toBe(1);
    await project.write('config.yaml', config(3));
    await waitFor(() => server.logs.lines.includes('config: ~sleeper maxThreads 1->3'), { what: 'the config line' });
    const after = await peak();
    expect(after).toBeGreaterThan(1);
    expect(after).toBeLessThanOrEqual(3);
  });

  it('keeps the running config when an edit is invalid, and prints the problems with their lines', async () => {
    const { project, server } = await devProject({ 'config.yaml': BASE, 'functions/counter.ts': COUNTER });
    await project.write('config.yaml', `${BASE}    maxThreads: many\n`);
    await waitFor(() => server.logs.text().includes('config not applied'), { what: 'the config error' });
    expect(server.logs.text()).toContain('config.yaml:5 functions.counter.maxThreads: expected a positive integer, got "many"');
    expect(await text(server, '/counter')).toBe('count 1');
  });

  it('says a restart is needed for a new port instead of ignoring it', async () => {
    const { project, server } = await devProject({ 'config.yaml': BASE, 'functions/counter.ts': COUNTER });
    await project.write('config.yaml', `server:\n  port: 4999\n${BASE}`);
    await waitFor(() => server.logs.lines.includes('config: server.port 3000->4999 (restart needed)'), { what: 'the restart notice' });
    expect(await text(server, '/counter')).toBe('count 1');
  });

  it('needs no restart for a port changed back to the one the server was started with', async () => {
    const { project, server } = await devProject({ 'config.yaml': BASE, 'functions/counter.ts': COUNTER });
    await project.write('config.yaml', `server:\n  port: 4999\n${BASE}`);
    await waitFor(() => server.logs.lines.includes('config: server.port 3000->4999 (restart needed)'), { what: 'the restart notice' });
    await project.write('config.yaml', `server:\n  port: 3000\n${BASE}`);
    await waitFor(() => server.logs.lines.includes('config: server.port 4999->3000'), { what: 'the change back' });
    expect(server.logs.lines.filter((line) => line.includes('restart needed'))).toHaveLength(1);
  });
});

describe('hot reload under load', () => {
  it('answers every request with 200 from the old or the new version through 20 reloads and 3 broken saves', async () => {
    const source = (version: number) => `export default () => "v${version}";\n`;
    const { project, server } = await devProject({
      'config.yaml': 'functions:\n  target:\n    routes: GET /target\n    maxThreads: 2\n    maxQueue: 64\n',
      'functions/target.ts': source(0),
    });

    let stop = false;
    const failures: string[] = [];
    let answered = 0;
    const client = async () => {
      let last = -1;
      while (!stop) {
        try {
          const response = await server.fetch('/target');
          const body = await response.text();
          const version = Number(/^v(\d+)$/.exec(body)?.[1] ?? NaN);
          if (response.status !== 200 || Number.isNaN(version)) failures.push(`${response.status} ${body}`);
          else if (version < last) failures.push(`went back from v${last} to v${version}`);
          else last = version;
          answered++;
        } catch (error) {
          failures.push(`request failed: ${(error as Error).message}`);
        }
      }
    };
    const clients = Array.from({ length: 16 }, client);

    const broken = new Set([5, 11, 17]);
    let version = 0;
    for (let step = 1; step <= 20; step++) {
      if (broken.has(step)) {
        // A syntax error, or (step 11) a module that throws while loading.
        const failure = step === 11 ? 'target failed to load' : 'target failed to build';
        const errorsBefore = server.logs.lines.filter((line) => line.includes(failure)).length;
        await project.write('functions/target.ts', step === 11 ? 'throw new Error("no config");\nexport default () => "never";\n' : 'export default () => "broken;\n');
        await waitFor(() => server.logs.lines.filter((line) => line.includes(failure)).length > errorsBefore, {
          what: `broken save ${step} to be rejected`,
        });
      } else {
        version = step;
        await project.write('functions/target.ts', source(version));
        await servesEventually(server, '/target', `v${version}`);
      }
    }
    stop = true;
    await Promise.all(clients);
    expect(failures).toEqual([]);
    expect(answered).toBeGreaterThan(100);
    expect(await text(server, '/target')).toBe('v20');
    // Every retired version drained and was destroyed: only the serving bundle is left on disk.
    const bundles = async () => {
      const [run] = (await readdir(project.path('.fngate'))).filter((dir) => dir.startsWith('run-'));
      return (await readdir(project.path(`.fngate/${run}`))).sort();
    };
    await waitFor(async () => (await bundles()).length === 2, { what: 'old bundles to be removed' });
    expect(await bundles()).toEqual([expect.stringMatching(/^target\.\d+\.mjs$/), expect.stringMatching(/^target\.\d+\.mjs\.map$/)]);
  });

  it('lets a slow request that started before a reload finish with the old version', async () => {
    const source = (tag: string) =>
      `import { setTimeout as sleep } from "node:timers/promises";\nexport default async (req: Request) => {\n  await sleep(Number(new URL(req.url).searchParams.get("ms") ?? 0));\n  return ${JSON.stringify(tag)};\n};\n`;
    const { project, server } = await devProject({
      'config.yaml': 'functions:\n  slow:\n    routes: GET /slow\n    maxThreads: 2\n',
      'functions/slow.ts': source('old'),
    });
    const slow = server.fetch('/slow?ms=1500');
    await waitFor(() => server.runtime.functions().find((f) => f.name === 'slow')!.running === 1, { what: 'the slow request to run' });
    await project.write('functions/slow.ts', source('new'));
    await servesEventually(server, '/slow', 'new');
    const response = await slow;
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('old');
  });
});

describe('fngate start', () => {
  it('does not watch: an edit a dev server on the same project picks up leaves it serving the old code', async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  hello:\n    routes: GET /hello\n',
      'functions/hello.ts': returning('v1'),
    });
    const server = await startRuntime({ cwd: project.dir, mode: 'start' });
    const dev = await startRuntime({ cwd: project.dir, watch: true, mode: 'dev' });
    expect(server.runtime.watchedFiles()).toBe(0);
    await project.write('functions/hello.ts', returning('v2'));
    await servesEventually(dev, '/hello', 'v2');
    expect(await text(server, '/hello')).toBe('v1');
  });
});
