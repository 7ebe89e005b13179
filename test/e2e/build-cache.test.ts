import { readFile, stat, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createProject, type TempProject } from '../helpers/project.js';
import { startRuntime } from '../helpers/runtime.js';

const CONFIG = 'functions:\n  greet:\n    routes: GET /greet\n';

async function greetProject(): Promise<TempProject> {
  return createProject({
    'config.yaml': CONFIG,
    'functions/greet.ts': 'import { greeting } from "./lib/greeting";\nimport { suffix } from "dep";\nexport default () => greeting + suffix;\n',
    'functions/lib/greeting.ts': 'export const greeting = "hello";\n',
    'node_modules/dep/package.json': '{ "name": "dep", "version": "1.0.0", "main": "index.js" }\n',
    'node_modules/dep/index.js': 'exports.suffix = "!";\n',
  });
}

/** Starts the project, reads /greet, closes: one run of `fngate start`. */
async function run(project: TempProject): Promise<{ body: string; fromCache: boolean }> {
  const server = await startRuntime({ config: project.path('config.yaml') });
  const response = await server.fetch('/greet');
  expect(response.status).toBe(200);
  const body = await response.text();
  const fromCache = server.runtime.functions().find((fn) => fn.name === 'greet')!.fromCache;
  await server.runtime.close();
  return { body, fromCache };
}

describe('build cache', () => {
  it('reuses the bundle of an earlier run when nothing it was built from changed', async () => {
    const project = await greetProject();
    expect(await run(project)).toEqual({ body: 'hello!', fromCache: false });
    const manifest = project.path('.fngate/cache/greet.json');
    const written = (await stat(manifest)).mtimeMs;
    expect(await run(project)).toEqual({ body: 'hello!', fromCache: true });
    expect((await stat(manifest)).mtimeMs).toBe(written);
  });

  it('rebuilds when a file the function imports changed between runs', async () => {
    const project = await greetProject();
    await run(project);
    await project.write('functions/lib/greeting.ts', 'export const greeting = "hi";\n');
    expect(await run(project)).toEqual({ body: 'hi!', fromCache: false });
    expect(await run(project)).toEqual({ body: 'hi!', fromCache: true });
  });

  it('rebuilds when a dependency in node_modules changed between runs', async () => {
    const project = await greetProject();
    await run(project);
    await project.write('node_modules/dep/index.js', 'exports.suffix = "?";\n');
    expect(await run(project)).toEqual({ body: 'hello?', fromCache: false });
  });

  it('rebuilds when the project package.json changed between runs, since it can change how imports resolve', async () => {
    const project = await greetProject();
    await run(project);
    await project.write('package.json', '{ "name": "app", "type": "module" }\n');
    expect(await run(project)).toEqual({ body: 'hello!', fromCache: false });
  });

  it('rebuilds instead of serving a cached bundle that was altered on disk', async () => {
    const project = await greetProject();
    await run(project);
    const bundle = project.path('.fngate/cache/greet.mjs');
    await writeFile(bundle, (await readFile(bundle, 'utf8')).slice(0, 40));
    expect(await run(project)).toEqual({ body: 'hello!', fromCache: false });
  });

  it('rebuilds when the cache manifest is not valid JSON', async () => {
    const project = await greetProject();
    await run(project);
    await writeFile(project.path('.fngate/cache/greet.json'), '{"key":');
    expect(await run(project)).toEqual({ body: 'hello!', fromCache: false });
    expect(await run(project)).toEqual({ body: 'hello!', fromCache: true });
  });
});
