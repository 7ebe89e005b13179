import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createProject, type TempProject } from '../helpers/project.js';
import { startRuntime, type StartedRuntime } from '../helpers/runtime.js';
import { waitFor } from '../helpers/wait.js';

/** Counts hits over every thread with Atomics; `?threads` also reports which thread answered. */
const counter = (label: string) => `
import { threadId } from 'node:worker_threads';
import type { Handler } from 'fngate';
const counter: Handler = (req, ctx) => {
  const hits = new Int32Array(ctx.shared!);
  if (new URL(req.url).searchParams.has('read')) return { label: ${JSON.stringify(label)}, hits: Atomics.load(hits, 0) };
  if (new URL(req.url).searchParams.has('exit')) process.exit(3);
  return { hits: Atomics.add(hits, 0, 1) + 1, threadId };
};
export default counter;
`;

async function counterProject(): Promise<{ project: TempProject; server: StartedRuntime }> {
  const project = await createProject({
    'config.yaml': 'functions:\n  counter:\n    routes: GET /counter\n    sharedMemory: 1kb\n    minThreads: 4\n    maxThreads: 4\n    concurrency: 1\n    maxQueue: 1000\n',
    'functions/counter.ts': counter('v1'),
  });
  const server = await startRuntime({ config: project.path('config.yaml'), watch: true });
  return { project, server };
}

async function hitsOf(server: StartedRuntime): Promise<{ label: string; hits: number }> {
  return (await (await server.fetch('/counter?read')).json()) as { label: string; hits: number };
}

describe('sharedMemory', () => {
  it('gives every thread the same buffer: 1,000 concurrent hits over 4 threads count exactly 1,000', async () => {
    const { server } = await counterProject();
    const responses = await Promise.all(Array.from({ length: 1000 }, () => server.fetch('/counter')));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as { hits: number; threadId: number }[];
    // Every hit got its own number: no increment was lost or doubled across threads.
    expect(new Set(bodies.map((b) => b.hits)).size).toBe(1000);
    expect(new Set(bodies.map((b) => b.threadId)).size).toBeGreaterThan(1);
    expect((await hitsOf(server)).hits).toBe(1000);
  });

  it('keeps the count across a hot reload of the function and across a replaced thread', async () => {
    const { project, server } = await counterProject();
    await Promise.all(Array.from({ length: 10 }, () => server.fetch('/counter')));
    await project.write('functions/counter.ts', counter('v2'));
    await waitFor(async () => (await hitsOf(server)).label === 'v2', { what: 'version 2' });
    expect((await hitsOf(server)).hits).toBe(10);

    expect((await server.fetch('/counter?exit')).status).toBe(502);
    await Promise.all(Array.from({ length: 5 }, () => server.fetch('/counter')));
    expect((await hitsOf(server)).hits).toBe(15);
  });
  it('counts exactly 1,000 with the demo counter over 4 threads while it is hot-reloaded mid-way', async () => {
    const demo = await readFile(new URL('../../functions/counter.ts', import.meta.url), 'utf8');
    const project = await createProject({
      'config.yaml': 'functions:\n  counter:\n    routes: GET /counter\n    sharedMemory: 1kb\n    minThreads: 4\n    maxThreads: 4\n    maxQueue: 1000\n',
      'functions/counter.ts': demo,
    });
    const server = await startRuntime({ config: project.path('config.yaml'), watch: true });
    const first = Array.from({ length: 500 }, () => server.fetch('/counter'));
    await project.write('functions/counter.ts', `${demo}\n// edited\n`);
    await waitFor(() => server.logs.lines.some((line) => line.startsWith('reloaded counter')), { what: 'the reload' });
    const second = Array.from({ length: 500 }, () => server.fetch('/counter'));
    const responses = await Promise.all([...first, ...second]);
    expect(responses.filter((r) => r.status !== 200)).toEqual([]);
    const hits = ((await Promise.all(responses.map((r) => r.json()))) as { hits: number }[]).map((b) => b.hits).sort((a, b) => a - b);
    expect(hits).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
  });
});
