import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { COUNTER, devProject, returning, servesEventually, text } from '../helpers/dev-project.js';
import { waitFor } from '../helpers/wait.js';

describe('hot reload: files that appear, move or change together', () => {
  it('builds a function whose import did not resolve as soon as the missing file is created', async () => {
    const { project, server } = await devProject({
      'config.yaml': 'functions:\n  hello:\n    routes: GET /hello\n',
      'functions/hello.ts': returning('before'),
    });
    // The usual order: write the import first, then the file it names.
    await project.write('functions/hello.ts', 'import { word } from "../lib/util";\nexport default () => word;\n');
    await waitFor(() => server.logs.text().includes('Could not resolve "../lib/util"'), { what: 'the resolve error' });
    await project.write('lib/util.ts', 'export const word = "resolved";\n');
    await servesEventually(server, '/hello', 'resolved');
  });

  it('adds a function config.yaml named before its file existed, once the file is created', async () => {
    const base = 'functions:\n  counter:\n    routes: GET /counter\n';
    const { project, server } = await devProject({ 'config.yaml': base, 'functions/counter.ts': COUNTER });
    await project.write('config.yaml', `${base}  later:\n    routes: GET /later\n`);
    await waitFor(() => server.logs.text().includes('functions/later.ts does not exist'), { what: 'the config error' });
    await project.write('functions/later.ts', returning('here now'));
    await servesEventually(server, '/later', 'here now');
    expect(server.logs.lines).toContain('config: +later');
    expect(await text(server, '/counter')).toBe('count 1');
  });

  it("says a function's own file was deleted, keeps serving, and serves it again when it comes back", async () => {
    const { project, server } = await devProject({
      'config.yaml': 'functions:\n  hello:\n    routes: GET /hello\n',
      'functions/hello.ts': returning('v1'),
    });
    await rm(project.path('functions/hello.ts'));
    await waitFor(() => server.logs.text().includes('✘ hello failed to build: functions/hello.ts does not exist (deleted or renamed?)'), {
      what: 'the error',
    });
    expect(await text(server, '/hello')).toBe('v1');
    await project.write('functions/hello.ts', returning('v2'));
    await servesEventually(server, '/hello', 'v2');
  });

  it('serves the edit of a newly imported file saved while the importer was being rebuilt', async () => {
    const { project, server } = await devProject({
      'config.yaml': 'functions:\n  hello:\n    routes: GET /hello\n',
      'functions/hello.ts': returning('plain'),
      'lib/word.ts': 'export const word = "old";\n',
    });
    const bundles = async () => {
      const [run] = (await readdir(project.path('.fngate'))).filter((dir) => dir.startsWith('run-'));
      return (await readdir(project.path(`.fngate/${run}`))).filter((file) => file.endsWith('.mjs')).length;
    };
    expect(await bundles()).toBe(1);
    // The new version takes 300 ms to load: lib/word.ts is saved after esbuild read it, before the
    // version is swapped in (when it joins the watched files).
    await project.write(
      'functions/hello.ts',
      'import { setTimeout as sleep } from "node:timers/promises";\nimport { word } from "../lib/word";\nawait sleep(300);\nexport default () => `word:${word}`;\n',
    );
    await waitFor(async () => (await bundles()) === 2, { what: 'the new bundle to be written' });
    await project.write('lib/word.ts', 'export const word = "new";\n');
    await servesEventually(server, '/hello', 'word:new');
  });

  it('moves a function to another file without deleting the bundle its new threads load', async () => {
    const config = (file: string) => `functions:\n  w:\n    file: functions/${file}\n    routes: GET /w\n    maxThreads: 3\n    concurrency: 1\n`;
    const slowly = (tag: string) => `import { setTimeout as sleep } from "node:timers/promises";\nexport default async () => { await sleep(200); return ${JSON.stringify(tag)}; };\n`;
    const { project, server } = await devProject({ 'config.yaml': config('one.ts'), 'functions/one.ts': slowly('one'), 'functions/two.ts': slowly('two') });
    await project.write('config.yaml', config('two.ts'));
    await servesEventually(server, '/w', 'two');
    await server.runtime.reloadsSettled();
    // Three at once: two of them start new threads, which load the bundle from disk.
    const answers = await Promise.all(Array.from({ length: 3 }, async () => {
      const response = await server.fetch('/w');
      return `${response.status} ${await response.text()}`;
    }));
    expect(answers).toEqual(['200 two', '200 two', '200 two']);
  });

  it('applies a source edit saved in the same burst as a routes-only config edit', async () => {
    const base = 'functions:\n  b:\n    routes: GET /b\n';
    const { project, server } = await devProject({ 'config.yaml': base, 'functions/b.ts': returning('b1') });
    // What a git checkout does: both files at once.
    await Promise.all([project.write('config.yaml', base.replace('GET /b', '[GET /b, GET /bee]')), project.write('functions/b.ts', returning('b2'))]);
    await servesEventually(server, '/bee', 'b2');
    expect(await text(server, '/b')).toBe('b2');
  });

  it('keeps reloading other functions while one of them hangs while loading', async () => {
    const { project, server } = await devProject({
      'config.yaml': 'functions:\n  stuck:\n    routes: GET /stuck\n  other:\n    routes: GET /other\n',
      'functions/stuck.ts': returning('stuck v1'),
      'functions/other.ts': returning('other v1'),
    });
    // Its warm-up waits up to 30 s (the default timeout) for the module to load.
    await project.write(
      'functions/stuck.ts',
      'import { writeFileSync } from "node:fs";\nwriteFileSync(new URL("../loading.txt", import.meta.url), "");\nawait new Promise(() => {});\nexport default () => "never";\n',
    );
    await waitFor(() => existsSync(project.path('loading.txt')), { what: 'the stuck module to start loading' });
    await project.write('functions/other.ts', returning('other v2'));
    await servesEventually(server, '/other', 'other v2');
    expect(await text(server, '/stuck')).toBe('stuck v1');
  });
  it('loads a function saved again on a thread that started before the save (standby), but not one with changed settings', async () => {
    // Thread ids grow with every thread this process starts: a marker thread started by the test
    // tells threads started before it from threads started after.
    const markerThread = async () => {
      const worker = new Worker('', { eval: true });
      const id = worker.threadId;
      await worker.terminate();
      return id;
    };
    const source = (version: number) => `import { threadId } from 'node:worker_threads';\nexport default () => ({ version: ${version}, threadId });\n`;
    const config = (max: number) => `functions:\n  hot:\n    routes: GET /hot\n    maxThreads: ${max}\n`;
    const { project, server } = await devProject({ 'config.yaml': config(2), 'functions/hot.ts': source(1) });
    const serving = async (version: number) =>
      waitFor(async () => {
        const body = (await (await server.fetch('/hot')).json()) as { version: number; threadId: number };
        return body.version === version && body;
      }, { what: `version ${version}` });

    await project.write('functions/hot.ts', source(2)); // the first reload starts a standby thread
    await serving(2);
    await server.runtime.reloadsSettled();
    let marker = await markerThread();
    await project.write('functions/hot.ts', source(3));
    expect((await serving(3)).threadId).toBeLessThan(marker);

    // New settings: the standby made with the old ones is dropped, a fresh thread serves.
    await server.runtime.reloadsSettled();
    marker = await markerThread();
    await project.write('config.yaml', config(3));
    await waitFor(() => server.logs.lines.includes('config: ~hot maxThreads 2->3'), { what: 'the config change' });
    expect((await serving(3)).threadId).toBeGreaterThan(marker);
  });
});
