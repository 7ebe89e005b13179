/**
 * Baseline: the demo's handlers run in-process in a plain Hono app on @hono/node-server, on the
 * main thread. For `hello` and `echo` this is the limit fngate is measured against; for `sort`
 * it is the blocking server the seed starts from (a sort freezes every other request).
 * Prints `listening on URL` when ready.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const app = new Hono();
app.get('/hello/:name', (c) => c.text(`hello ${c.req.param('name')}`));
app.post('/echo', async (c) => {
  const body = await c.req.arrayBuffer();
  return new Response(body, { headers: { 'content-type': c.req.header('content-type') ?? 'application/octet-stream' } });
});
app.get('/sort', (c) => {
  const size = Number(c.req.query('size') ?? 1_000_000);
  const numbers = new Float64Array(size);
  for (let i = 0; i < size; i++) numbers[i] = Math.random();
  numbers.sort();
  return c.json({ length: numbers.length });
});

const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
  console.log(`listening on http://127.0.0.1:${info.port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
