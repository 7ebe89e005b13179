import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { backgroundLoad } from './load.js';
import { BIN, READY, startFngate, startProcess, type ServerProcess } from './processes.js';
import type { Profile } from './profile.js';
import { DEMO_CONFIG } from './project.js';
import { bareFloor } from './rows-scale.js';
import { measureReload } from './reload.js';
import type { Row } from './row.js';
import { median, percentile, round } from './stats.js';

/** One spawn of `fngate start` on the demo (or of the built server) until its first 200, in ms. */
async function coldStart(builtDir?: string): Promise<number> {
  const started = performance.now();
  const server =
    builtDir === undefined
      ? await startFngate(['start', '--config', DEMO_CONFIG, '--port', '0'], { warm: false })
      : await startProcess([join(builtDir, 'server.mjs')], READY, { PORT: '0' });
  try {
    const response = await fetch(`${server.url}/hello/cold`);
    if (response.status !== 200) throw new Error(`cold start answered ${response.status}`);
    await response.text();
    return performance.now() - started;
  } finally {
    await server.stop();
  }
}

/**
 * B6: spawn `fngate start` on the demo config until its first 200. Twice over: with an empty
 * build cache (a fresh clone, or every function edited since the last run), and a restart
 * (bundles reused from .fngate/cache). The target is judged on the restart, the common case,
 * against a bare Node http server started in the same repetitions.
 */
export async function coldStartRow(profile: Profile): Promise<Row> {
  const cacheDir = join(dirname(DEMO_CONFIG), '.fngate', 'cache');
  const empty: number[] = [];
  const cached: number[] = [];
  const floor: number[] = [];
  for (let i = 0; i < profile.coldStarts; i++) {
    floor.push(await bareFloor(1));
    await rm(cacheDir, { recursive: true, force: true });
    empty.push(await coldStart());
    cached.push(await coldStart());
  }
  const emptyMs = Math.round(median(empty));
  const cachedMs = Math.round(median(cached));
  const floorMs = Math.round(median(floor));
  return {
    id: 'B6',
    what: `cold start: spawn fngate start (the demo config.yaml) -> first 200, median of ${cached.length}`,
    fngate: `restart: **${cachedMs} ms**; empty build cache: ${emptyMs} ms`,
    compared: `a bare Node http server (${floorMs} ms): **${round(cachedMs / floorMs)}x**; wrangler dev 779 ms, serverless-offline 1.2 s (figures from the issue, not this run)`,
    target: '<= 2x the bare floor',
    met: cachedMs <= 2 * floorMs,
    data: { medianMs: cachedMs, emptyCacheMedianMs: emptyMs, floorMs, samples: cached.map((s) => round(s)), emptyCacheSamples: empty.map((s) => round(s)), floor: floor.map((s) => round(s)) },
  };
}

/**
 * B12: the output of `fngate build` (node DIR/server.mjs: prebuilt bundles, no esbuild, no cache
 * check) against `fngate start` restarting on the same demo, spawn -> first 200, interleaved.
 */
export async function builtStartRow(profile: Profile): Promise<Row> {
  const dir = await mkdtemp(join(tmpdir(), 'fngate-bench-build-'));
  try {
    const build = spawnSync(process.execPath, [BIN, 'build', '--config', DEMO_CONFIG, '--out', join(dir, 'out')], { encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`fngate build failed: ${build.stderr}`);
    await coldStart(); // the build cache is warm for fngate start
    const built: number[] = [];
    const start: number[] = [];
    for (let i = 0; i < profile.coldStarts; i++) {
      built.push(await coldStart(join(dir, 'out')));
      start.push(await coldStart());
    }
    const builtMs = Math.round(median(built));
    const startMs = Math.round(median(start));
    return {
      id: 'B12',
      what: `cold start of fngate build's output (node DIR/server.mjs, the demo) -> first 200, median of ${built.length}`,
      fngate: `built server: **${builtMs} ms**`,
      compared: `fngate start restarting on the same project (warm build cache): ${startMs} ms -> **${round(builtMs / startMs)}x**`,
      target: '<= 1x fngate start',
      met: builtMs <= startMs,
      data: { builtMedianMs: builtMs, startMedianMs: startMs, built: built.map((s) => round(s)), start: start.map((s) => round(s)) },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * B7: save -> first response with the new code, from scripts/bench/reload.ts, for both ways
 * editors save (in place, and a temp file renamed over), the first save of each included.
 */
export async function reloadRow(profile: Profile): Promise<Row> {
  const figures = await measureReload({ edits: profile.reloadEdits });
  const of = (fn: string, save: string) => figures.find((f) => f.function === fn && f.save === save)!;
  const small = [of('small', 'in place'), of('small', 'rename')];
  const heavy = [of('heavy', 'in place'), of('heavy', 'rename')];
  const worst = Math.max(...small.map((f) => f.medianMs));
  const worstP95 = Math.max(...small.map((f) => f.p95Ms));
  return {
    id: 'B7',
    what: `hot reload: save -> new code served, ${profile.reloadEdits} edits per kind of save, the first included`,
    fngate: `small: in place median **${small[0]!.medianMs} ms** (p95 ${small[0]!.p95Ms}), rename-over **${small[1]!.medianMs} ms** (p95 ${small[1]!.p95Ms}); zod+yaml (1 MB): ${heavy[0]!.medianMs} / ${heavy[1]!.medianMs} ms`,
    compared: 'wrangler dev 179 ms (figure from the issue)',
    target: 'median <= 60 ms, p95 <= 150 ms (small)',
    met: worst <= 60 && worstP95 <= 150,
    data: { figures },
  };
}

/**
 * B8: RSS of `fngate start` with the demo idle, and after sustained load (leak check). Idle RSS
 * is read twice: 1 s after the ready line, while the start-up's garbage is still in the heaps,
 * and after `memoryIdleSeconds` without a request, once V8's memory reducer (which runs about
 * 8 s after the last allocation burst) has returned it: the figure a server left running shows.
 * The target is judged on the settled figure. `meanwhile` runs during the idle wait (other rows,
 * in other processes: this server only sits there).
 */
export async function memoryRow(profile: Profile, meanwhile: () => Promise<void> = async () => {}): Promise<Row> {
  const server = await startFngate(['start', '--config', DEMO_CONFIG, '--port', '0']);
  try {
    const ready = performance.now();
    await sleep(1000);
    const started = server.rssMb();
    await meanwhile();
    await sleep(Math.max(0, profile.memoryIdleSeconds * 1000 - (performance.now() - ready)));
    const idle = server.rssMb();
    // Under load RSS saws up and down by 20 MB with the heaps' GC cycles (a 3-minute run stayed
    // within 222-245 MB): each reading is the median of samples over the window's last seconds.
    const window = Math.min(5, profile.memoryEarlySeconds / 2);
    const stop = backgroundLoad(`${server.url}/hello/mem`, { connections: profile.connections });
    let early: number;
    let late: number;
    try {
      await sleep((profile.memoryEarlySeconds - window) * 1000);
      early = await medianRss(server, window);
      await sleep((profile.memorySeconds - profile.memoryEarlySeconds - window) * 1000);
      late = await medianRss(server, window);
    } finally {
      await stop();
    }
    const ratio = late / early;
    return {
      id: 'B8',
      what: `memory: demo idle ${profile.memoryIdleSeconds} s (and 1 s) after start; RSS over the last ${window} s of ${profile.memorySeconds} s of hello load vs of the first ${profile.memoryEarlySeconds} s`,
      fngate: `idle **${Math.round(idle)} MB** (${Math.round(started)} MB at 1 s); ${Math.round(early)} -> ${Math.round(late)} MB: **${ratio.toFixed(2)}x**`,
      compared: 'wrangler dev idle 399 MB (figure from the issue)',
      target: 'idle <= 150 MB, ratio <= 1.1',
      met: idle <= 150 && ratio <= 1.1,
      data: { idleMb: round(idle), startedMb: round(started), earlyMb: round(early), lateMb: round(late), ratio: round(ratio, 3) },
    };
  } finally {
    await server.stop();
  }
}


/** Median RSS (MB) of samples taken every 250 ms for `seconds`. */
async function medianRss(server: ServerProcess, seconds: number): Promise<number> {
  const samples = [server.rssMb()];
  for (const end = performance.now() + seconds * 1000; performance.now() < end; ) {
    await sleep(250);
    samples.push(server.rssMb());
  }
  return median(samples);
}
