import { describe, expect, it } from 'vitest';
import { createProject } from '../helpers/project.js';
import { startRuntime } from '../helpers/runtime.js';
import { waitFor } from '../helpers/wait.js';

/**
 * `/work/start` answers at once and leaves work running through ctx.waitUntil() until
 * `/work/finish` is called; `/work/state` reports it. The Workers-style module gets the same.
 */
const WORK = `
import type { FetchModule } from 'fngate';
let release: (() => void) | undefined;
const state = { started: 0, finished: 0 };
export default {
  fetch(req, env, ctx) {
    const path = new URL(req.url).pathname;
    if (path === '/work/start') {
      state.started++;
      ctx.waitUntil(new Promise<void>((resolve) => (release = resolve)).then(() => { state.finished++; }));
      return new Response('started: ' + env.LABEL);
    }
    if (path === '/work/finish') { release?.(); return new Response('released'); }
    return Response.json(state);
  },
} satisfies FetchModule<{ LABEL: string }>;
`;

describe('ctx.waitUntil', () => {
  it('sends the response at once, keeps the work running after it, and holds the thread slot until it ends', async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  work:\n    routes: GET /work/*\n    maxThreads: 1\n    concurrency: 4\n    env: { LABEL: fetch-style }\n',
      'functions/work.ts': WORK,
    });
    const server = await startRuntime({ config: project.path('config.yaml'), mode: 'dev' });
    expect(await (await server.fetch('/work/start')).text()).toBe('started: fetch-style');
    expect(await (await server.fetch('/work/state')).json()).toEqual({ started: 1, finished: 0 });
    // Still counted as running on its thread: not idle, and a drain would wait for it.
    expect(server.runtime.functions().find((fn) => fn.name === 'work')!.running).toBe(1);

    await server.fetch('/work/finish');
    await waitFor(async () => ((await (await server.fetch('/work/state')).json()) as { finished: number }).finished === 1, {
      what: 'the background work to finish',
    });
    await waitFor(() => server.runtime.functions().find((fn) => fn.name === 'work')!.running === 0, { what: 'the slot to be released' });
  });

  it('lets shutdown wait for background work before the pool is destroyed', async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  slow:\n    routes: GET /slow\n',
      'functions/slow.ts': `
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Handler } from 'fngate';
const slow: Handler = (req, ctx) => {
  ctx.waitUntil(sleep(300).then(() => appendFileSync(new URL('../done.txt', import.meta.url), 'done')));
  return 'ok';
};
export default slow;
`,
    });
    const server = await startRuntime({ config: project.path('config.yaml'), mode: 'dev' });
    expect(await (await server.fetch('/slow')).text()).toBe('ok');
    await server.runtime.close();
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(project.path('done.txt'), 'utf8')).toBe('done');
  });
  it('stops waiting for overdue background work without killing a request that shares its thread', async () => {
    // The neighbour is a stream (it may outlive the timeout) that ends when /bg?release is called.
    const project = await createProject({
      'config.yaml': 'functions:\n  bg:\n    routes: GET /bg\n    maxThreads: 1\n    concurrency: 4\n    timeout: 300ms\n',
      'functions/bg.ts': `
import type { Handler } from 'fngate';
let release: () => void = () => {};
const bg: Handler = (req, ctx) => {
  const query = new URL(req.url).searchParams;
  if (query.has('forever')) {
    ctx.waitUntil(new Promise(() => {}));
    return 'started';
  }
  if (query.has('release')) return release(), 'released';
  return (async function* () {
    yield 'a';
    await new Promise<void>((resolve) => (release = resolve));
    yield 'b';
  })();
};
export default bg;
`,
    });
    const server = await startRuntime({ config: project.path('config.yaml'), mode: 'dev' });
    const neighbour = await server.fetch('/bg');
    const body = neighbour.text();
    expect(await (await server.fetch('/bg?forever')).text()).toBe('started');
    await waitFor(() => server.logs.text().includes('no longer waiting for it'), { what: 'the overdue notice' });
    expect(await (await server.fetch('/bg?release')).text()).toBe('released');
    expect(await body).toBe('ab');
    await waitFor(() => server.runtime.functions()[0]!.running === 0, { what: 'every slot to be released' });
  });
  it("lets background work of a handler that then threw run on with its ctx.signal untouched", async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  w:\n    routes: GET /w\n    maxThreads: 1\n',
      'functions/w.ts': `
import { setTimeout as sleep } from 'node:timers/promises';
import type { Handler } from 'fngate';
const state = { done: false, aborted: false };
const w: Handler = (req, ctx) => {
  if (new URL(req.url).searchParams.has('state')) return state;
  ctx.waitUntil(sleep(100).then(() => { state.done = true; state.aborted = ctx.signal.aborted; }));
  throw new Error('after starting background work');
};
export default w;
`,
    });
    const server = await startRuntime({ config: project.path('config.yaml'), mode: 'dev' });
    expect((await server.fetch('/w')).status).toBe(500);
    const state = await waitFor(
      async () => {
        const current = (await (await server.fetch('/w?state')).json()) as { done: boolean; aborted: boolean };
        return current.done && current;
      },
      { what: 'the background work to finish' },
    );
    expect(state.aborted).toBe(false);
  });
});
