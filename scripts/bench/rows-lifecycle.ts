import { setTimeout as sleep } from 'node:timers/promises';
import { backgroundLoad } from './load.js';
import { startFngate } from './processes.js';
import type { Profile } from './profile.js';
import { DEMO_CONFIG } from './project.js';
import { measureReload } from './reload.js';
import type { Row } from './row.js';
import { median, percentile, round } from './stats.js';

/** B6: spawn `fngate start` on the demo config until its first 200. */
export async function coldStartRow(profile: Profile): Promise<Row> {
  const samples: number[] = [];
  for (let i = 0; i < profile.coldStarts; i++) {
    const started = performance.now();
    const server = await startFngate(['start', '--config', DEMO_CONFIG, '--port', '0']);
    try {
      const response = await fetch(`${server.url}/hello/cold`);
      if (response.status !== 200) throw new Error(`cold start answered ${response.status}`);
      await response.text();
      samples.push(performance.now() - started);
    } finally {
      await server.stop();
    }
  }
  const ms = Math.round(median(samples));
  return {
    id: 'B6',
    what: `cold start: spawn fngate start (demo, 6 functions) -> first 200, median of ${samples.length}`,
    fngate: `**${ms} ms**`,
    compared: 'wrangler dev 779 ms, serverless-offline 1.2 s (figures from the issue, not this run)',
    target: '<= 400 ms',
    met: ms <= 400,
    data: { medianMs: ms, samples: samples.map((s) => round(s)) },
  };
}

/** B7: save -> first response with the new code, from scripts/bench/reload.ts. */
export async function reloadRow(profile: Profile): Promise<Row> {
  const [small, heavy] = await measureReload({ edits: profile.reloadEdits });
  return {
    id: 'B7',
    what: `hot reload: save -> new code served, ${profile.reloadEdits} edits`,
    fngate: `small: median **${small!.medianMs} ms**, p95 ${small!.p95Ms} ms; zod+yaml (1 MB): median ${heavy!.medianMs} ms, p95 ${heavy!.p95Ms} ms`,
    compared: 'wrangler dev 179 ms (figure from the issue)',
    target: 'median <= 100 ms',
    met: small!.medianMs <= 100,
    data: { small, heavy },
  };
}

/** B8: RSS of `fngate start` with the demo idle, and after sustained load (leak check). */
export async function memoryRow(profile: Profile): Promise<Row> {
  const server = await startFngate(['start', '--config', DEMO_CONFIG, '--port', '0']);
  try {
    await sleep(1000);
    const idle = server.rssMb();
    const stop = backgroundLoad(`${server.url}/hello/mem`, { connections: profile.connections });
    let early: number;
    let late: number;
    try {
      await sleep(profile.memoryEarlySeconds * 1000);
      early = server.rssMb();
      await sleep((profile.memorySeconds - profile.memoryEarlySeconds) * 1000);
      late = server.rssMb();
    } finally {
      await stop();
    }
    const ratio = late / early;
    return {
      id: 'B8',
      what: `memory: demo idle; after ${profile.memorySeconds} s of hello load vs after ${profile.memoryEarlySeconds} s`,
      fngate: `idle **${Math.round(idle)} MB**; ${Math.round(early)} -> ${Math.round(late)} MB: **${ratio.toFixed(2)}x**`,
      compared: 'wrangler dev idle 399 MB (figure from the issue)',
      target: 'idle <= 150 MB, ratio <= 1.1',
      met: idle <= 150 && ratio <= 1.1,
      data: { idleMb: round(idle), earlyMb: round(early), lateMb: round(late), ratio: round(ratio, 3) },
    };
  } finally {
    await server.stop();
  }
}

