import { Hono } from 'hono';

/**
 * A whole Hono app as a function: `export default app` works unchanged because fngate calls
 * app.fetch(req, env, ctx). Routed in config.yaml with `ANY /api/*`.
 */
const app = new Hono().basePath('/api');

const users = new Map([
  ['1', { id: '1', name: 'Ada Lovelace' }],
  ['2', { id: '2', name: 'Alan Turing' }],
]);

app.use('*', async (c, next) => {
  await next();
  c.header('x-powered-by', 'hono-in-a-worker');
});

app.get('/users', (c) => c.json([...users.values()]));
app.get('/users/:id', (c) => {
  const user = users.get(c.req.param('id'));
  return user ? c.json(user) : c.json({ error: 'no such user' }, 404);
});
app.post('/users', async (c) => {
  const body = await c.req.json<{ name?: unknown }>().catch(() => ({}) as { name?: unknown });
  if (typeof body.name !== 'string' || body.name === '') return c.json({ error: 'name is required' }, 400);
  const user = { id: String(users.size + 1), name: body.name };
  users.set(user.id, user);
  return c.json(user, 201);
});

export default app;
