import { Agent, request } from 'node:http';
import autocannon from 'autocannon';

export interface Throughput {
  /** Requests per second (average over the run). */
  readonly rps: number;
  /** Milliseconds. */
  readonly p50: number;
  readonly p99: number;
  /** Connection errors, timeouts and non-2xx answers: a valid run has none. */
  readonly failures: number;
}

export interface LoadOptions {
  readonly connections: number;
  readonly seconds: number;
  readonly method?: 'GET' | 'POST';
  readonly body?: string;
}

/** autocannon against one URL. */
export async function throughput(url: string, options: LoadOptions): Promise<Throughput> {
  const result = await autocannon({
    url,
    connections: options.connections,
    duration: options.seconds,
    // autocannon stops only at a sample tick: without this, a 0.3 s run would last a second.
    sampleInt: Math.min(1000, options.seconds * 1000),
    method: options.method ?? 'GET',
    ...(options.body !== undefined && { body: options.body }),
  });
  return {
    rps: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.errors + result.timeouts + result.non2xx,
  };
}

/** Starts autocannon and returns a function that stops it (for background load). */
export function backgroundLoad(url: string, options: Omit<LoadOptions, 'seconds'>): () => Promise<void> {
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  // The callback form returns the running instance, which can be stopped.
  const instance = autocannon({ url, connections: options.connections, duration: 3600, method: options.method ?? 'GET' }, () => finished());
  return async () => {
    instance.stop();
    await done;
  };
}

/**
 * One request after another on one keep-alive connection for `seconds`, each timed with a
 * sub-millisecond clock (autocannon reports whole milliseconds, too coarse for an idle route).
 */
export async function sequentialLatencies(url: string, seconds: number, init: { method?: string; body?: Buffer } = {}): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const samples: number[] = [];
  const end = performance.now() + seconds * 1000;
  try {
    while (performance.now() < end || samples.length < 3) samples.push(await timedRequest(url, agent, init));
  } finally {
    agent.destroy();
  }
  return samples;
}

/** `count` requests one after another; milliseconds each. */
export async function timedRequests(url: string, count: number, init: { method?: string; body?: Buffer } = {}): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const samples: number[] = [];
  try {
    for (let i = 0; i < count; i++) samples.push(await timedRequest(url, agent, init));
  } finally {
    agent.destroy();
  }
  return samples;
}

function timedRequest(url: string, agent: Agent, init: { method?: string; body?: Buffer }): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(url, { agent, method: init.method ?? 'GET' }, (res) => {
      res.on('data', () => {});
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`${url} answered ${res.statusCode}`));
        else resolve(performance.now() - started);
      });
    });
    req.on('error', reject);
    req.end(init.body);
  });
}
