import { setTimeout as sleep } from 'node:timers/promises';
import type { Handler } from 'fngate';

/**
 * GET /clock?ticks=5 -> server-sent events, one per second, streamed as they are produced
 * (`curl -N localhost:3000/clock`, or `new EventSource('/clock')` in a browser). The generator
 * stops (its finally block runs) when the client disconnects.
 */
const clock: Handler = (req) => {
  const ticks = Math.min(Number(new URL(req.url).searchParams.get('ticks') ?? 5), 3600);
  async function* events() {
    for (let i = 1; i <= ticks; i++) {
      yield `event: tick\ndata: ${JSON.stringify({ i, time: new Date().toISOString() })}\n\n`;
      if (i < ticks) await sleep(1000);
    }
  }
  return new Response(ReadableStream.from(events()).pipeThrough(new TextEncoderStream()), {
    headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
  });
};

export default clock;
