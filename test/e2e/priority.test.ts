import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createProject } from '../helpers/project.js';
import { startRuntime } from '../helpers/runtime.js';

/** Nice value of every thread of this process (the runtime runs in it). */
function niceValues(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const fields = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(fields[16]);
  });
}

describe.runIf(process.platform === 'linux')('thread priority', () => {
  const SPIN = 'const end = Date.now() + 60; let n = 0; while (Date.now() < end) n++;';

  it('lowers the priority of a thread that computes for long, and only of that one', async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  heavy:\n    routes: GET /heavy\n    maxThreads: 1\n  light:\n    routes: GET /light\n    maxThreads: 1\n',
      'functions/heavy.ts': `export default () => { ${SPIN} return String(n > 0); };`,
      'functions/light.ts': 'export default () => "light";',
    });
    const server = await startRuntime({ cwd: project.dir });
    expect(niceValues().filter((nice) => nice === 19)).toEqual([]);
    for (let i = 0; i < 3; i++) expect(await (await server.fetch('/light')).text()).toBe('light');
    expect(niceValues().filter((nice) => nice === 19)).toEqual([]);
    // The first heavy-looking request arms a CPU-time check; the second confirms it.
    for (let i = 0; i < 2; i++) expect(await (await server.fetch('/heavy')).text()).toBe('true');
    // Exactly the heavy function's thread; the gateway and the light function keep nice 0.
    expect(niceValues().filter((nice) => nice === 19)).toEqual([19]);
    expect(niceValues().filter((nice) => nice !== 19).every((nice) => nice === 0)).toBe(true);
  });

  it('lowers it too when the computing happens after an await', async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  heavy:\n    routes: POST /heavy\n    maxThreads: 1\n',
      'functions/heavy.ts': `export default async (req: Request) => { const body = await req.text(); ${SPIN} return body; };`,
    });
    const server = await startRuntime({ cwd: project.dir });
    for (let i = 0; i < 2; i++) expect(await (await server.fetch('/heavy', { method: 'POST', body: 'done' })).text()).toBe('done');
    expect(niceValues().filter((nice) => nice === 19)).toEqual([19]);
  });

  it('keeps the priority of a thread that only looks slow by the clock (blocked, not computing)', async () => {
    // Atomics.wait blocks the thread for 60 ms without using the CPU: what a light request looks
    // like when a loaded machine deschedules its thread.
    const project = await createProject({
      'config.yaml': 'functions:\n  blocked:\n    routes: GET /blocked\n    maxThreads: 1\n',
      'functions/blocked.ts': 'const cell = new Int32Array(new SharedArrayBuffer(4));\nexport default () => { Atomics.wait(cell, 0, 0, 60); return "woke"; };',
    });
    const server = await startRuntime({ cwd: project.dir });
    for (let i = 0; i < 4; i++) expect(await (await server.fetch('/blocked')).text()).toBe('woke');
    expect(niceValues().filter((nice) => nice === 19)).toEqual([]);
  });

  it('keeps the priority of a thread serving many short requests at once', async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  light:\n    routes: GET /light\n    maxThreads: 1\n    maxQueue: 256\n',
      'functions/light.ts': 'export default async () => { await new Promise((resolve) => setTimeout(resolve, 30)); return "light"; };',
    });
    const server = await startRuntime({ cwd: project.dir });
    const answers = await Promise.all(Array.from({ length: 200 }, async () => (await server.fetch('/light')).text()));
    expect(new Set(answers)).toEqual(new Set(['light']));
    expect(niceValues().filter((nice) => nice === 19)).toEqual([]);
  });
});
