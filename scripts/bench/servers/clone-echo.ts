/**
 * Baseline for moving a body to a worker and back by structured clone instead of transfer:
 * the same path as fngate's echo (read the body once, run it on a warm Piscina thread, send the
 * reply) but with no transfer list, so the 16 MiB are copied twice.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { Piscina } from 'piscina';

const pool = new Piscina({
  filename: new URL('./clone-echo-worker.mjs', import.meta.url).href,
  minThreads: 1,
  maxThreads: 1,
  atomics: 'disabled',
});

const app = new Hono();
app.post('/echo', async (c) => {
  const body = await c.req.arrayBuffer();
  const echoed = (await pool.run({ body })) as ArrayBuffer;
  return new Response(echoed, { headers: { 'content-type': 'application/octet-stream' } });
});

const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
  console.log(`listening on http://127.0.0.1:${info.port}`);
});
process.on('SIGTERM', () => server.close(() => void pool.destroy().then(() => process.exit(0))));
