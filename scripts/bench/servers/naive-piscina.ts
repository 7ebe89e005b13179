/**
 * Baseline: the naive pool the issue describes. Hono on @hono/node-server, one Piscina thread
 * with concurrentTasksPerWorker 4, and the handler's inputs passed as an object; no queue of its
 * own, no timeouts, no isolation. fngate's hot path has to beat this.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { Piscina } from 'piscina';

const pool = new Piscina({
  filename: new URL('./naive-piscina-worker.mjs', import.meta.url).href,
  minThreads: 1,
  maxThreads: 1,
  concurrentTasksPerWorker: 4,
  atomics: 'disabled',
  maxQueue: 4096,
});

const app = new Hono();
app.get('/hello/:name', async (c) => c.text((await pool.run({ name: c.req.param('name') })) as string));

const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
  console.log(`listening on http://127.0.0.1:${info.port}`);
});
process.on('SIGTERM', () => server.close(() => void pool.destroy().then(() => process.exit(0))));
