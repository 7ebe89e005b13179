import { availableParallelism } from 'node:os';
import { throughput, type Throughput } from './load.js';
import { startBaseline, startFngate, type ServerProcess } from './processes.js';
import type { Profile } from './profile.js';
import type { Row } from './row.js';
import { median, round } from './stats.js';

/** Median of `reps` runs per target, interleaved (A B A B ...) so drift hits both alike. */
async function measure(targets: Record<string, () => Promise<Throughput>>, reps: number): Promise<Record<string, Throughput>> {
  const runs: Record<string, Throughput[]> = Object.fromEntries(Object.keys(targets).map((name) => [name, []]));
  for (let rep = 0; rep < reps; rep++) {
    for (const [name, run] of Object.entries(targets)) runs[name]!.push(await run());
  }
  return Object.fromEntries(
    Object.entries(runs).map(([name, list]) => [
      name,
      {
        rps: round(median(list.map((t) => t.rps))),
        p50: median(list.map((t) => t.p50)),
        p99: median(list.map((t) => t.p99)),
        failures: list.reduce((sum, t) => sum + t.failures, 0),
      },
    ]),
  );
}

/** B1 (fngate vs in-process Hono) and B2 (fngate vs a Worker per request), `hello` in all three. */
export async function helloRows(profile: Profile, fngateConfig: string): Promise<Row[]> {
  const servers: ServerProcess[] = [];
  try {
    const fngate = await startFngate(['start', '--config', fngateConfig, '--port', '0']);
    servers.push(fngate);
    const hono = await startBaseline('hono-in-process');
    servers.push(hono);
    const perRequest = await startBaseline('worker-per-request');
    servers.push(perRequest);
    const load = (server: ServerProcess) => () =>
      throughput(`${server.url}/hello/bench`, { connections: profile.connections, seconds: profile.seconds });
    // Warm up JITs and pools before anything counts.
    for (const server of [fngate, hono]) await throughput(`${server.url}/hello/warm`, { connections: profile.connections, seconds: Math.min(1, profile.seconds) });
    const r = await measure({ fngate: load(fngate), hono: load(hono), perRequest: load(perRequest) }, profile.reps);
    const b1 = r.fngate!.rps / r.hono!.rps;
    const b2 = r.fngate!.rps / r.perRequest!.rps;
    return [
      {
        id: 'B1',
        what: `hello, ${profile.connections} connections`,
        fngate: `${Math.round(r.fngate!.rps)} req/s, p99 ${r.fngate!.p99} ms`,
        compared: `in-process Hono ${Math.round(r.hono!.rps)} req/s, p99 ${r.hono!.p99} ms: **${b1.toFixed(2)}x**`,
        target: '>= 0.5x',
        met: b1 >= 0.5,
        data: { fngate: r.fngate, hono: r.hono, ratio: round(b1, 3) },
      },
      {
        id: 'B2',
        what: 'hello: warm pool vs a new Worker per request',
        fngate: `${Math.round(r.fngate!.rps)} req/s`,
        compared: `Worker per request ${round(r.perRequest!.rps)} req/s: **${Math.round(b2)}x**`,
        target: '>= 200x',
        met: b2 >= 200,
        data: { fngate: r.fngate, workerPerRequest: r.perRequest, ratio: round(b2, 1) },
      },
    ];
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}

/** B5: a CPU-bound handler with 1, 2 and one-thread-per-core pools. */
export async function scalingRow(profile: Profile, fngateConfig: string): Promise<Row> {
  const fngate = await startFngate(['start', '--config', fngateConfig, '--port', '0']);
  try {
    // About 25 ms of hashing per request: CPU-bound, not dominated by the request path.
    const hash = (path: string) => () =>
      throughput(`${fngate.url}${path}?rounds=30000`, { connections: 4, seconds: profile.seconds, method: 'POST', body: 'x' });
    await hash('/cpuN')();
    const r = await measure({ one: hash('/cpu1'), two: hash('/cpu2'), cores: hash('/cpuN') }, profile.reps);
    const ratio = r.two!.rps / r.one!.rps;
    const cores = availableParallelism();
    return {
      id: 'B5',
      what: 'CPU-bound hash, 4 connections',
      fngate: `maxThreads 1: ${round(r.one!.rps)} req/s, 2: ${round(r.two!.rps)} req/s, ${cores} (cores): ${round(r.cores!.rps)} req/s`,
      compared: `2 threads / 1 thread: **${ratio.toFixed(2)}x**`,
      target: '>= 1.7x',
      met: ratio >= 1.7,
      data: { one: r.one, two: r.two, cores: r.cores, coreCount: cores, ratio: round(ratio, 3) },
    };
  } finally {
    await fngate.stop();
  }
}
