/**
 * Baseline: the seed's anti-pattern. Every request starts a new Worker that runs the handler
 * and is then thrown away: unbounded, and each request pays for a thread's start-up.
 */
import { Worker } from 'node:worker_threads';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const HANDLER = `
const { parentPort, workerData } = require('node:worker_threads');
parentPort.postMessage('hello ' + workerData.name);
`;

const app = new Hono();
app.get('/hello/:name', async (c) => {
  const worker = new Worker(HANDLER, { eval: true, workerData: { name: c.req.param('name') } });
  const text = await new Promise<string>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  void worker.terminate();
  return c.text(text);
});

const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
  console.log(`listening on http://127.0.0.1:${info.port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
