import { describe, expect, it } from 'vitest';
import { createProject } from '../helpers/project.js';
import { startRuntime } from '../helpers/runtime.js';

// Counts requests in flight on its (single) thread. With ?gather=N it waits until N requests
// are in flight at once (or 2 s pass) and reports the most it saw. ?spin=MS computes for MS
// first, ?hold=MS then waits on a timer.
const GATHERING = `
import { setTimeout as sleep } from "node:timers/promises";
let inFlight = 0;
let most = 0;
export default async (req: Request) => {
  const url = new URL(req.url);
  const gather = Number(url.searchParams.get("gather") ?? 0);
  const holdMs = Number(url.searchParams.get("hold") ?? 0);
  const spinMs = Number(url.searchParams.get("spin") ?? 0);
  inFlight++;
  most = Math.max(most, inFlight);
  try {
    for (const until = Date.now() + spinMs; Date.now() < until; );
    if (holdMs) await sleep(holdMs);
    for (const until = Date.now() + 2000; gather && most < gather && Date.now() < until; ) await sleep(5);
    return { most };
  } finally {
    inFlight--;
  }
};
`;

async function server(concurrency?: string) {
  const project = await createProject({
    'config.yaml': `functions:\n  gather:\n    routes: GET /gather\n    maxThreads: 1\n    maxQueue: 64\n${concurrency ? `    concurrency: ${concurrency}\n` : ''}`,
    'functions/gather.ts': GATHERING,
  });
  return startRuntime({ cwd: project.dir });
}

async function mostInFlight(s: Awaited<ReturnType<typeof server>>, path: string, count: number): Promise<number> {
  const results = (await Promise.all(Array.from({ length: count }, async () => (await s.fetch(path)).json()))) as { most: number }[];
  return Math.max(...results.map((r) => r.most));
}

describe('concurrency', () => {
  it('lets one thread run as many requests at once as concurrency says, and no more', async () => {
    const s = await server('4');
    // Eight at once, each waiting until four run together: never more than four.
    expect(await mostInFlight(s, '/gather?gather=4&hold=20', 8)).toBe(4);
  });

  it('with concurrency 1, runs one request per thread at a time', async () => {
    const s = await server('1');
    expect(await mostInFlight(s, '/gather?hold=50', 4)).toBe(1);
  });

  it('auto: hands a thread several requests at once while requests are short', async () => {
    const s = await server();
    // Short requests first: they set the running average well under 2 ms.
    for (let i = 0; i < 20; i++) await s.fetch('/gather');
    expect(await mostInFlight(s, '/gather?gather=8', 8)).toBe(8);
  });

  it('auto: keeps one request per thread for a function whose requests compute for long', async () => {
    const s = await server();
    for (let i = 0; i < 3; i++) await s.fetch('/gather?spin=10&hold=40');
    expect(await mostInFlight(s, '/gather?spin=10&hold=40', 6)).toBe(1);
  });

  it('auto: lets requests that mostly wait share a thread, however long they wait', async () => {
    const s = await server();
    for (let i = 0; i < 3; i++) await s.fetch('/gather?hold=100');
    expect(await mostInFlight(s, '/gather?gather=8&hold=100', 8)).toBe(8);
  });

  it('auto: answers a quick request without waiting for a slow one sent alongside it', async () => {
    const s = await server();
    for (let i = 0; i < 20; i++) await s.fetch('/gather');
    for (let i = 0; i < 3; i++) await s.fetch('/gather?hold=30');
    const slow = s.fetch('/gather?hold=1000').then(() => 'slow');
    const quick = s.fetch('/gather').then(() => 'quick');
    expect(await Promise.race([slow, quick])).toBe('quick');
    await slow;
  });
});
