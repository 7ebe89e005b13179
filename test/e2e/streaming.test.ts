import { request } from 'node:http';
import { describe, expect, it, vi } from 'vitest';
import { createProject } from '../helpers/project.js';
import { startRuntime, type StartedRuntime } from '../helpers/runtime.js';
import { waitFor } from '../helpers/wait.js';

/**
 * `/gen/stream` yields 5 chunks 100 ms apart, each stamped with the time it was produced;
 * `/gen/state` tells whether the last generator ran its finally block, and how far it got.
 * maxThreads 1, so both routes see the same module state.
 */
const GENERATOR = `
import { setTimeout as sleep } from 'node:timers/promises';
const state = { produced: 0, finished: false };
async function* ticks() {
  state.produced = 0;
  state.finished = false;
  try {
    for (let i = 1; i <= 5; i++) {
      state.produced = i;
      yield JSON.stringify({ i, at: Date.now() }) + '\\n';
      await sleep(100);
    }
  } finally {
    state.finished = true;
  }
}
export default (req: Request) => (new URL(req.url).pathname.endsWith('/state') ? state : ticks());
`;

const SSE = `
export default () => {
  let n = 0;
  let timer: ReturnType<typeof setInterval>;
  const events = new ReadableStream<string>({
    start(controller) {
      timer = setInterval(() => {
        controller.enqueue(\`event: tick\\ndata: \${++n}\\n\\n\`);
        if (n === 3) { clearInterval(timer); controller.close(); }
      }, 20);
    },
    cancel() { clearInterval(timer); },
  });
  return new Response(events.pipeThrough(new TextEncoderStream()), { headers: { 'content-type': 'text/event-stream' } });
};
`;

async function streamingProject(): Promise<StartedRuntime> {
  const project = await createProject({
    'config.yaml': 'defaults:\n  maxThreads: 1\n  concurrency: 4\nfunctions:\n  gen:\n    routes: GET /gen/*\n  sse:\n    routes: GET /sse\n  other:\n    routes: GET /other\n',
    'functions/gen.ts': GENERATOR,
    'functions/sse.ts': SSE,
    'functions/other.ts': 'export default () => "other";\n',
  });
  return startRuntime({ config: project.path('config.yaml'), mode: 'dev' });
}

/** GETs `url` and records each chunk as it arrives (node:http, so chunk boundaries are visible). */
function chunksOf(url: string): Promise<{ status: number; headers: Record<string, unknown>; chunks: { text: string; at: number }[] }> {
  return new Promise((resolve, reject) => {
    request(url, (response) => {
      const chunks: { text: string; at: number }[] = [];
      response.setEncoding('utf8');
      response.on('data', (text: string) => chunks.push({ text, at: Date.now() }));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, chunks }));
      response.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

describe('streaming responses', () => {
  it('sends an async generator chunk by chunk as it yields: the first arrives before the last is produced', async () => {
    const server = await streamingProject();
    const { status, headers, chunks } = await chunksOf(`${server.url}/gen/stream`);
    expect(status).toBe(200);
    expect(headers['transfer-encoding']).toBe('chunked');
    expect(headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(chunks).toHaveLength(5);
    const produced = chunks.map((chunk) => JSON.parse(chunk.text) as { i: number; at: number });
    expect(produced.map((p) => p.i)).toEqual([1, 2, 3, 4, 5]);
    expect(chunks[0]!.at).toBeLessThan(produced[4]!.at);
    // The request held its thread slot until the stream ended, then gave it back.
    await waitFor(() => server.runtime.functions().find((fn) => fn.name === 'gen')!.running === 0, { what: 'the slot to be released' });
  });

  it('stops the generator when the client disconnects, running its finally block', async () => {
    const server = await streamingProject();
    const controller = new AbortController();
    const response = await fetch(`${server.url}/gen/stream`, { signal: controller.signal });
    const reader = response.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('"i":1');
    controller.abort();
    const state = await waitFor(
      async () => {
        const current = (await (await server.fetch('/gen/state')).json()) as { produced: number; finished: boolean };
        return current.finished ? current : undefined;
      },
      { what: 'the generator to finish' },
    );
    expect(state.produced).toBeLessThan(5);
    expect((await server.fetch('/other')).status).toBe(200);
  });

  it('keeps a streaming thread alive past idleTimeout: piscina sees it busy until the stream ends', async () => {
    const project = await createProject({
      // minThreads 0: piscina stops a thread it sees idle for idleTimeout (200 ms); the stream lasts 400 ms or more.
      'config.yaml': 'functions:\n  gen:\n    routes: GET /gen/*\n    minThreads: 0\n    idleTimeout: 200ms\n',
      'functions/gen.ts': GENERATOR,
    });
    const server = await startRuntime({ config: project.path('config.yaml'), mode: 'dev' });
    const { chunks } = await chunksOf(`${server.url}/gen/stream`);
    expect(chunks.map((c) => (JSON.parse(c.text) as { i: number }).i)).toEqual([1, 2, 3, 4, 5]);
  });

  it('ends a stream whose producer waits for its next chunk when the client leaves: ctx.signal aborts, the slot is freed', async () => {
    // An SSE source that waits for events that never come, as a generator and as a ReadableStream.
    const project = await createProject({
      'config.yaml': 'defaults:\n  maxThreads: 1\n  concurrency: 1\nfunctions:\n  waits:\n    routes: GET /waits/*\n',
      'functions/waits.ts': `
import type { Handler } from 'fngate';
const state = { aborted: '', finally: false, cancelled: false };
const waits: Handler = (req, ctx) => {
  const path = new URL(req.url).pathname;
  if (path.endsWith('/state')) return state;
  if (path.endsWith('/stream')) {
    let first = true;
    return new Response(new ReadableStream({
      pull(controller) {
        if (first) { first = false; controller.enqueue(new TextEncoder().encode('first')); return; }
        return new Promise(() => {}); // the next event never comes
      },
      cancel() { state.cancelled = true; },
    }));
  }
  return (async function* () {
    try {
      yield 'first';
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
      state.aborted = (ctx.signal.reason as Error).name;
    } finally {
      state.finally = true;
    }
  })();
};
export default waits;
`,
    });
    const server = await startRuntime({ config: project.path('config.yaml'), mode: 'dev' });
    const running = () => server.runtime.functions()[0]!.running;
    for (const path of ['/waits/generator', '/waits/stream']) {
      const controller = new AbortController();
      const response = await fetch(`${server.url}${path}`, { signal: controller.signal });
      expect(new TextDecoder().decode((await response.body!.getReader().read()).value)).toBe('first');
      controller.abort();
      // With one thread and concurrency 1, a slot still held would make the state request wait.
      await waitFor(() => running() === 0, { what: `the slot of ${path} to be released` });
    }
    expect(await (await server.fetch('/waits/state')).json()).toEqual({ aborted: 'AbortError', finally: true, cancelled: true });
  });

  it('cuts the connection when a stream fails midway, so the client sees a truncated response, logged once', async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  boom:\n    routes: GET /boom\n',
      'functions/boom.ts': 'export default () => (async function* () { yield "first part"; throw new Error("midway"); })();\n',
    });
    const server = await startRuntime({ config: project.path('config.yaml'), mode: 'dev' });
    // @hono/node-server prints a stream error it is handed with console.error (on this process).
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const response = await server.fetch('/boom');
      expect(response.status).toBe(200);
      await expect(response.text()).rejects.toThrow();
      await waitFor(() => server.runtime.functions()[0]!.running === 0, { what: 'the slot to be released' });
      expect(consoleError).not.toHaveBeenCalled();
    } finally {
      consoleError.mockRestore();
    }
    expect((await server.fetch('/boom')).status).toBe(200);
  });

  it('applies backpressure: a client that stops reading stops the producer, instead of filling memory', async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  flood:\n    routes: GET /flood/*\n    maxThreads: 1\n    concurrency: 4\n',
      'functions/flood.ts': `
const state = { produced: 0 };
async function* flood() {
  const chunk = new Uint8Array(64 * 1024);
  for (;;) { state.produced++; yield chunk; }
}
export default (req: Request) => (new URL(req.url).pathname.endsWith('/state') ? state : flood());
`,
    });
    const server = await startRuntime({ config: project.path('config.yaml'), mode: 'dev' });
    const controller = new AbortController();
    const response = await fetch(`${server.url}/flood/stream`, { signal: controller.signal });
    await response.body!.getReader().read(); // one chunk, then never read again
    const produced = async () => ((await (await server.fetch('/flood/state')).json()) as { produced: number }).produced;
    // Poll until production stops (socket buffers full, no more pulls).
    let last = -1;
    const settled = await waitFor(
      async () => {
        const now = await produced();
        const stable = now === last;
        last = now;
        return stable ? now : undefined;
      },
      { what: 'the producer to stop', intervalMs: 250 },
    );
    // An unbounded producer would have made thousands of 64 KiB chunks by now.
    expect(settled).toBeLessThan(400);
    controller.abort();
  });

  it('serves server-sent events from a Response whose body is a ReadableStream', async () => {
    const server = await streamingProject();
    const { status, headers, chunks } = await chunksOf(`${server.url}/sse`);
    expect(status).toBe(200);
    expect(headers['content-type']).toBe('text/event-stream');
    expect(headers['x-accel-buffering']).toBe('no');
    const events = chunks.map((c) => c.text).join('').split('\n\n').filter(Boolean);
    expect(events).toEqual(['event: tick\ndata: 1', 'event: tick\ndata: 2', 'event: tick\ndata: 3']);
  });

  it('applies the timeout to the first byte only: a stream may run longer than timeout', async () => {
    const project = await createProject({
      'config.yaml': 'functions:\n  gen:\n    routes: GET /gen/*\n    timeout: 250ms\n    maxThreads: 1\n',
      'functions/gen.ts': GENERATOR,
    });
    const server = await startRuntime({ config: project.path('config.yaml'), mode: 'dev' });
    // 5 chunks 100 ms apart: 400 ms or more, past the 250 ms timeout.
    const { status, chunks } = await chunksOf(`${server.url}/gen/stream`);
    expect(status).toBe(200);
    expect(chunks.map((c) => (JSON.parse(c.text) as { i: number }).i)).toEqual([1, 2, 3, 4, 5]);
  });
});
