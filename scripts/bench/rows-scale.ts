import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { startFngate, startProcess, type ServerProcess } from './processes.js';
import type { Profile } from './profile.js';
import { createManyFunctionsProject } from './project.js';
import type { Row } from './row.js';
import { median, round } from './stats.js';

/** A bare Node http server: spawn -> first 200, the floor every start-up figure is compared with. */
const BARE_SERVER = "const s = require('node:http').createServer((q, r) => r.end('ok')).listen(0, '127.0.0.1', () => console.log('listening on http://127.0.0.1:' + s.address().port));";

async function firstAnswer(start: () => Promise<ServerProcess>, path: string): Promise<number> {
  const started = performance.now();
  const server = await start();
  try {
    const response = await fetch(`${server.url}${path}`);
    if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
    await response.text();
    return performance.now() - started;
  } finally {
    await server.stop();
  }
}

/** Median spawn -> first 200 of a bare Node http server. */
export async function bareFloor(samples: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) times.push(await firstAnswer(() => startProcess(['-e', BARE_SERVER], /^listening on (\S+)$/m), '/'));
  return median(times);
}

/**
 * B9: fngate start on generated projects of 10, 50 and 100 trivial functions (maxThreads 2,
 * minThreads 1), warm build cache, spawn -> first 200 on the last function; interleaved with
 * the bare Node floor. Also 100 functions with an empty build cache. (The tiny profile of the
 * harness test scales 100 down.)
 */
export async function manyFunctionsRow(profile: Profile): Promise<Row> {
  const most = profile.manyFunctions;
  const sizes = [most / 10, most / 2, most];
  const projects = await Promise.all(sizes.map((n) => createManyFunctionsProject(n, 1)));
  try {
    const start = (config: string) => () => startFngate(['start', '--config', config, '--port', '0'], { warm: false });
    for (const [i, project] of projects.entries()) await firstAnswer(start(project.config), `/f${sizes[i]! - 1}`); // fills the build cache
    const times = new Map<number, number[]>(sizes.map((n) => [n, []]));
    const floor: number[] = [];
    for (let rep = 0; rep < profile.coldStarts; rep++) {
      floor.push(await firstAnswer(() => startProcess(['-e', BARE_SERVER], /^listening on (\S+)$/m), '/'));
      for (const [i, project] of projects.entries()) times.get(sizes[i]!)!.push(await firstAnswer(start(project.config), `/f${sizes[i]! - 1}`));
    }
    const last = projects.at(-1)!;
    await rm(join(last.dir, '.fngate', 'cache'), { recursive: true, force: true });
    const empty = await firstAnswer(start(last.config), `/f${most - 1}`);
    const ms = (n: number) => Math.round(median(times.get(n)!));
    const [few, half] = [sizes[0]!, sizes[1]!];
    const floorMs = Math.round(median(floor));
    const growth = ms(most) / ms(few);
    const slope = (ms(most) - ms(few)) / (most - few);
    return {
      id: 'B9',
      what: `start with many functions: fngate start, N trivial functions (minThreads 1), warm build cache -> first 200 on the last one, median of ${profile.coldStarts}`,
      fngate: `${few}: ${ms(few)} ms, ${half}: ${ms(half)} ms, ${most}: **${ms(most)} ms** (${round(slope, 1)} ms per function); ${most} with an empty build cache: ${Math.round(empty)} ms`,
      compared: `${most} vs ${few} functions: **${round(growth)}x**; vs a bare Node http server (${floorMs} ms): **${round(ms(most) / floorMs)}x**`,
      target: `<= 1.5x of ${few} functions, <= 3x the bare floor`,
      met: growth <= 1.5 && ms(most) <= 3 * floorMs,
      data: { functions: sizes, ms: Object.fromEntries(sizes.map((n) => [n, ms(n)])), emptyCacheMs: Math.round(empty), floorMs, slopeMsPerFunction: round(slope, 2), samples: Object.fromEntries(times), floor },
    };
  } finally {
    await Promise.all(projects.map((project) => project.cleanup()));
  }
}

/**
 * B10: RSS of fngate start with 100 functions, idle for memoryIdleSeconds after every function
 * started: minThreads 0 (no thread at all) and minThreads 1 (100 warm threads), and what one warm
 * thread costs.
 */
export async function idleCostRow(profile: Profile): Promise<Row> {
  const most = profile.manyFunctions;
  const rss: Record<number, number> = {};
  for (const minThreads of [0, 1]) {
    const project = await createManyFunctionsProject(most, minThreads);
    try {
      const server = await startFngate(['start', '--config', project.config, '--port', '0']);
      try {
        await sleep(profile.memoryIdleSeconds * 1000);
        rss[minThreads] = server.rssMb();
      } finally {
        await server.stop();
      }
    } finally {
      await project.cleanup();
    }
  }
  const perThread = (rss[1]! - rss[0]!) / most;
  return {
    id: 'B10',
    what: `idle cost: fngate start with ${most} functions, RSS ${profile.memoryIdleSeconds} s after every function started`,
    fngate: `minThreads 0: **${Math.round(rss[0]!)} MB**; minThreads 1: ${Math.round(rss[1]!)} MB, **${round(perThread, 1)} MB per warm thread**`,
    compared: 'the issue measured 268-274 MB (minThreads 0) and about 12.5 MB per warm thread before',
    target: '<= 150 MB with minThreads 0',
    met: rss[0]! <= 150,
    data: { minThreads0Mb: round(rss[0]!), minThreads1Mb: round(rss[1]!), mbPerWarmThread: round(perThread, 2) },
  };
}

/** Median time to start a bare worker thread with an empty module until it answers. */
async function bareWorkerMs(samples: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    const worker = new Worker("require('node:worker_threads').parentPort.postMessage(1)", { eval: true });
    await new Promise((resolve) => worker.once('message', resolve));
    times.push(performance.now() - started);
    await worker.terminate();
  }
  return median(times);
}

/**
 * B11: the first request to a function with no live thread (minThreads 0): the time it adds over
 * a warm request to the same function, against the start of one bare worker thread (+20 ms),
 * measured in the same run. Judged in a running server (another function has served 20
 * requests, as when a function's threads idled out); the first request of a fresh process, which
 * also pays for the gateway's own first request, is reported next to it.
 */
export async function coldFunctionRow(profile: Profile): Promise<Row> {
  const project = await createManyFunctionsProject(3, 0);
  const running: number[] = [];
  const fresh: number[] = [];
  try {
    for (let rep = 0; rep < profile.coldStarts; rep++) {
      const server = await startFngate(['start', '--config', project.config, '--port', '0']);
      try {
        const time = async (path: string) => {
          const started = performance.now();
          await (await fetch(`${server.url}${path}`)).text();
          return performance.now() - started;
        };
        /** The first request to `path` minus the median of the 5 after it. */
        const added = async (path: string) => {
          const cold = await time(path);
          const warm: number[] = [];
          for (let i = 0; i < 5; i++) warm.push(await time(path));
          return cold - median(warm);
        };
        fresh.push(await added('/f2'));
        for (let i = 0; i < 20; i++) await time('/f0');
        running.push(await added('/f1'));
      } finally {
        await server.stop();
      }
    }
  } finally {
    await project.cleanup();
  }
  const addedMs = median(running);
  const worker = await bareWorkerMs(Math.max(3, profile.coldStarts));
  return {
    id: 'B11',
    what: `cold function: first request to a function with no thread (minThreads 0) in a running server, added over a warm request, median of ${running.length}`,
    fngate: `+**${round(addedMs)} ms**; as the first request of a fresh process: +${round(median(fresh))} ms`,
    compared: `a bare new Worker() with an empty module: ${round(worker)} ms; target ${round(worker + 20)} ms`,
    target: '<= bare worker + 20 ms',
    met: addedMs <= worker + 20,
    data: { addedMs: round(addedMs), freshProcessAddedMs: round(median(fresh)), bareWorkerMs: round(worker), samples: running.map((s) => round(s)), freshSamples: fresh.map((s) => round(s)) },
  };
}
