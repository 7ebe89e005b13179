import { availableParallelism } from 'node:os';
import { bareHashRate } from './cpu-ceiling.js';
import { throughput, type Throughput } from './load.js';
import { startAll, startBaseline, startFngate, type ServerProcess } from './processes.js';
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

/**
 * B1 (fngate vs in-process Hono, and vs the naive Piscina pool it must beat) and B2 (fngate vs
 * a Worker per request), `hello` in all four.
 */
export async function helloRows(profile: Profile, fngateConfig: string): Promise<Row[]> {
  const servers = await startAll([
    startFngate(['start', '--config', fngateConfig, '--port', '0']),
    startBaseline('hono-in-process'),
    startBaseline('worker-per-request'),
    startBaseline('naive-piscina'),
  ] as const);
  const [fngate, hono, perRequest, naive] = servers;
  try {
    const load = (server: ServerProcess) => () =>
      throughput(`${server.url}/hello/bench`, { connections: profile.connections, seconds: profile.seconds });
    // Warm up JITs and pools before anything counts.
    for (const server of [fngate, hono, naive]) await throughput(`${server.url}/hello/warm`, { connections: profile.connections, seconds: Math.min(0.5, profile.seconds) });
    const r = await measure({ fngate: load(fngate), hono: load(hono), naive: load(naive) }, profile.reps);
    // Last and on its own: Workers of a Worker-per-request server are still starting and exiting
    // for a while after the load stops, which took CPU from whatever ran next (fngate: -25%).
    Object.assign(r, await measure({ perRequest: load(perRequest) }, profile.reps));
    const b1 = r.fngate!.rps / r.hono!.rps;
    const b2 = r.fngate!.rps / r.perRequest!.rps;
    const naiveRatio = r.naive!.rps / r.hono!.rps;
    return [
      {
        id: 'B1',
        what: `hello, ${profile.connections} connections`,
        fngate: `${Math.round(r.fngate!.rps)} req/s, p99 ${r.fngate!.p99} ms`,
        compared:
          `in-process Hono ${Math.round(r.hono!.rps)} req/s, p99 ${r.hono!.p99} ms: **${b1.toFixed(2)}x**; ` +
          `naive Piscina pool (1 thread, 4 concurrent tasks) ${Math.round(r.naive!.rps)} req/s: ${naiveRatio.toFixed(2)}x`,
        target: '>= 0.65x',
        met: b1 >= 0.65,
        data: { fngate: r.fngate, hono: r.hono, naive: r.naive, ratio: round(b1, 3), naiveRatio: round(naiveRatio, 3) },
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

/**
 * B5: a CPU-bound handler with 1 and 2 threads (and one per core, where that is more than 2),
 * next to the same hash loop in bare worker threads: the most 2 threads can give on this machine.
 */
export async function scalingRow(profile: Profile, fngateConfig: string): Promise<Row> {
  const cores = availableParallelism();
  const bare = (threads: number) => async (): Promise<Throughput> => ({
    rps: await bareHashRate(threads, { seconds: profile.seconds / 2, rounds: 2000 }),
    p50: 0,
    p99: 0,
    failures: 0,
  });
  const fngate = await startFngate(['start', '--config', fngateConfig, '--port', '0']);
  try {
    // About 20 ms of hashing per request: CPU-bound (the request path costs about 0.05 ms),
    // and short enough that a 1 s run counts about 50 of them per thread.
    const hash = (path: string) => () =>
      throughput(`${fngate.url}${path}?rounds=${profile.hashRounds}`, { connections: 4, seconds: profile.seconds, method: 'POST', body: 'x' });
    await hash('/cpu2')();
    // Interleaved with the bare-thread runs, so that the machine's drift hits both alike.
    const r = await measure(
      { one: hash('/cpu1'), two: hash('/cpu2'), ...(cores > 2 && { cores: hash('/cpuN') }), bareOne: bare(1), bareTwo: bare(2) },
      profile.reps,
    );
    const ratio = r.two!.rps / r.one!.rps;
    const ceiling = r.bareTwo!.rps / r.bareOne!.rps;
    const perCore = r.cores ? `, ${cores} (cores): ${round(r.cores.rps)} req/s` : '';
    return {
      id: 'B5',
      what: 'CPU-bound hash (about 20 ms a request), 4 connections',
      fngate: `maxThreads 1: ${round(r.one!.rps)} req/s, 2: ${round(r.two!.rps)} req/s${perCore}: **${ratio.toFixed(2)}x**`,
      compared: `the same loop in 2 bare threads vs 1, no HTTP (this machine's ceiling): ${ceiling.toFixed(2)}x`,
      target: '>= 1.7x',
      met: ratio >= 1.7,
      data: { one: r.one, two: r.two, cores: r.cores, coreCount: cores, ratio: round(ratio, 3), ceiling: { oneChainsPerSecond: r.bareOne!.rps, twoChainsPerSecond: r.bareTwo!.rps, ratio: round(ceiling, 3) } },
    };
  } finally {
    await fngate.stop();
  }
}
