import { randomBytes } from 'node:crypto';
import { get } from 'node:http';
import { backgroundLoad, sequentialLatencies, timedRequests } from './load.js';
import { startAll, startBaseline, startFngate, type ServerProcess } from './processes.js';
import type { Profile } from './profile.js';
import type { Row } from './row.js';
import { median, percentile, round } from './stats.js';

/** p99 (ms) of a light route, median over reps, optionally while a heavy route is hammered. */
async function lightP99(server: ServerProcess, profile: Profile, heavy: boolean, reps = profile.reps): Promise<number> {
  const p99s: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    // More connections on the heavy route than sort has threads: every thread busy, a queue behind.
    const stop = heavy ? backgroundLoad(`${server.url}/sort?size=1000000`, { connections: 4 }) : undefined;
    try {
      const samples = await sequentialLatencies(`${server.url}/hello/light`, profile.latencySeconds);
      p99s.push(percentile(samples, 99));
    } finally {
      await stop?.();
    }
  }
  return round(median(p99s), 2);
}

/** B3: the light route's p99 while the heavy route saturates, fngate vs the blocking server. */
export async function heavyLightRow(profile: Profile, fngateConfig: string): Promise<Row> {
  const [fngate, blocking] = await startAll([startFngate(['start', '--config', fngateConfig, '--port', '0']), startBaseline('hono-in-process')] as const);
  try {
    await sequentialLatencies(`${fngate.url}/hello/warm`, Math.min(0.5, profile.latencySeconds));
    await sequentialLatencies(`${blocking.url}/hello/warm`, Math.min(0.5, profile.latencySeconds));
    const fIdle = await lightP99(fngate, profile, false);
    const fBusy = await lightP99(fngate, profile, true);
    // Once is enough for the blocking server: each of its requests under load waits a whole
    // sort (over a second), three orders of magnitude beyond the 100x the row checks.
    const bIdle = await lightP99(blocking, profile, false, 1);
    const bBusy = await lightP99(blocking, profile, true, 1);
    const fRatio = fBusy / fIdle;
    const bRatio = bBusy / bIdle;
    return {
      id: 'B3',
      what: 'light route p99 while sort(1e6) saturates its pool',
      fngate: `idle ${fIdle} ms, under load ${fBusy} ms: **${fRatio.toFixed(1)}x**`,
      compared: `blocking server (sort on the main thread): idle ${bIdle} ms, under load ${bBusy} ms: **${Math.round(bRatio)}x**`,
      target: '<= 3x (blocking > 100x)',
      met: fRatio <= 3 && bRatio > 100,
      data: { fngate: { idleP99: fIdle, loadedP99: fBusy, ratio: round(fRatio, 2) }, blocking: { idleP99: bIdle, loadedP99: bBusy, ratio: round(bRatio, 1) } },
    };
  } finally {
    await Promise.all([fngate.stop(), blocking.stop()]);
  }
}

/** B4: a 16 MiB POST echoed back: fngate's added latency vs in-process, and vs structured clone. */
export async function bigBodyRow(profile: Profile, fngateConfig: string): Promise<Row> {
  const body = randomBytes(16 * 1024 * 1024);
  const [fngate, hono, clone] = await startAll([
    startFngate(['start', '--config', fngateConfig, '--port', '0']),
    startBaseline('hono-in-process'),
    startBaseline('clone-echo'),
  ] as const);
  try {
    const medianOf = async (server: ServerProcess) => {
      await timedRequests(`${server.url}/echo`, 2, { method: 'POST', body }); // warm-up
      const perRep: number[] = [];
      for (let rep = 0; rep < profile.reps; rep++) {
        perRep.push(median(await timedRequests(`${server.url}/echo`, profile.bodyRequests, { method: 'POST', body })));
      }
      return median(perRep);
    };
    const inProcess = await medianOf(hono);
    const viaFngate = await medianOf(fngate);
    const viaClone = await medianOf(clone);
    const overhead = viaFngate - inProcess;
    const cloneOverhead = viaClone - inProcess;
    return {
      id: 'B4',
      what: '16 MiB POST echo, added latency vs in-process',
      fngate: `**${round(overhead, 1)} ms** (${round(viaFngate, 1)} vs ${round(inProcess, 1)} ms)`,
      compared: `same path by structured clone: ${round(cloneOverhead, 1)} ms (${round(viaClone, 1)} ms)`,
      target: '<= 5 ms',
      met: overhead <= 5,
      data: { inProcessMs: round(inProcess, 2), fngateMs: round(viaFngate, 2), cloneMs: round(viaClone, 2), overheadMs: round(overhead, 2), cloneOverheadMs: round(cloneOverhead, 2) },
    };
  } finally {
    await Promise.all([fngate.stop(), hono.stop(), clone.stop()]);
  }
}

/** Requests `url` back to back, reading each response to its end, until stopped. */
function backToBack(url: string): () => Promise<void> {
  let stopping = false;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      get(url, { agent: false }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`${url} answered ${res.statusCode}`));
        res.on('data', () => {});
        res.on('end', resolve);
      }).on('error', reject);
    });
  const loop = (async () => {
    while (!stopping) await one();
  })();
  return async () => {
    stopping = true;
    await loop;
  };
}

/**
 * B13: the light route's p99 while one thread produces large results back to back and the
 * gateway sends them: strings and JSON are encoded to bytes on the function's thread, so the
 * gateway thread only forwards them, as it does bytes (the comparison). Before, it encoded a
 * 300 MB string itself and every route waited about 3 s.
 */
export async function bigResultRow(profile: Profile, fngateConfig: string): Promise<Row> {
  const server = await startFngate(['start', '--config', fngateConfig, '--port', '0']);
  const mb = profile.bigResultMb;
  // At least one whole result per sample, however short the profile.
  const seconds = Math.max(profile.latencySeconds, profile.name === 'tiny' ? 0.2 : 3);
  try {
    await sequentialLatencies(`${server.url}/hello/warm`, Math.min(0.5, profile.latencySeconds));
    const p99While = async (as: string | null) => {
      const p99s: number[] = [];
      for (let rep = 0; rep < profile.reps; rep++) {
        const stop = as === null ? undefined : backToBack(`${server.url}/big-result?mb=${as === 'json' ? Math.round(mb / 2) : mb}&as=${as}`);
        try {
          p99s.push(percentile(await sequentialLatencies(`${server.url}/hello/light`, seconds), 99));
        } finally {
          await stop?.();
        }
      }
      return round(median(p99s), 2);
    };
    const idle = await p99While(null);
    const text = await p99While('string');
    const json = await p99While('json');
    const bytes = await p99While('bytes');
    const added = (p99: number) => round(p99 - idle, 1);
    return {
      id: 'B13',
      what: `light route p99 while ${mb} MB string / ${Math.round(mb / 2)} MB JSON results are sent`,
      fngate: `idle ${idle} ms; string ${text} ms (**+${added(text)}**), JSON ${json} ms (**+${added(json)}**)`,
      compared: `the same size as bytes: ${bytes} ms (+${added(bytes)})`,
      target: '<= idle + 10 ms',
      met: added(text) <= 10 && added(json) <= 10,
      data: { mb, idleP99: idle, stringP99: text, jsonP99: json, bytesP99: bytes },
    };
  } finally {
    await server.stop();
  }
}
