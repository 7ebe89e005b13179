import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startRuntime } from '../helpers/runtime.js';

const DEMO_CONFIG = fileURLToPath(new URL('../../config.yaml', import.meta.url));

describe('demo functions', () => {
  it('serve every demo route from its worker pool', async () => {
    const { fetch } = await startRuntime({ config: DEMO_CONFIG });

    const hello = await fetch('/hello/ada');
    expect(hello.status).toBe(200);
    expect(hello.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(hello.headers.get('x-fngate-function')).toBe('hello');
    expect(hello.headers.get('server-timing')).toMatch(/^queue;dur=[\d.]+, run;dur=[\d.]+$/);
    expect(await hello.text()).toBe('hello ada');
    expect(await (await fetch('/hello')).text()).toBe('hello world');
    expect(await (await fetch('/hello/J%C3%BCrgen%20K')).text()).toBe('hello Jürgen K');

    const sort = await fetch('/sort?size=100000');
    expect(sort.headers.get('x-fngate-function')).toBe('sort');
    const sorted = (await sort.json()) as { length: number; ms: number; min: number; max: number };
    expect(sorted.length).toBe(100_000);
    expect(sorted.min).toBeLessThanOrEqual(sorted.max);
    expect((await fetch('/sort?size=-1')).status).toBe(400);

    const echo = await fetch('/echo', { method: 'POST', body: 'round trip', headers: { 'content-type': 'text/x-demo' } });
    expect(echo.headers.get('content-type')).toBe('text/x-demo');
    expect(await echo.text()).toBe('round trip');

    const hash = await fetch('/hash?rounds=3', { method: 'POST', body: 'abc' });
    let expected = createHash('sha256').update('abc').digest();
    for (let i = 1; i < 3; i++) expected = createHash('sha256').update(expected).digest();
    expect(await hash.json()).toEqual({ algorithm: 'sha256', rounds: 3, hex: expected.toString('hex') });

    const user = await fetch('/api/users/2');
    expect(user.headers.get('x-powered-by')).toBe('hono-in-a-worker');
    // The middleware re-wraps the response (new Response(res.body, res)): still sent whole, not streamed.
    const userText = await user.text();
    expect(user.headers.get('content-length')).toBe(String(Buffer.byteLength(userText)));
    expect(JSON.parse(userText)).toEqual({ id: '2', name: 'Alan Turing' });
    const created = await fetch('/api/users', { method: 'POST', body: JSON.stringify({ name: 'Grace Hopper' }) });
    expect(created.status).toBe(201);
    expect(((await created.json()) as { name: string }).name).toBe('Grace Hopper');
    expect((await fetch('/api/users/99')).status).toBe(404);

    const valid = await fetch('/validate', { method: 'POST', body: JSON.stringify({ email: 'ada@example.com', name: 'Ada' }) });
    expect(await valid.json()).toEqual({ valid: true, value: { email: 'ada@example.com', name: 'Ada' } });
    const invalid = await fetch('/validate', { method: 'POST', body: JSON.stringify({ email: 'nope', name: '' }) });
    expect(invalid.status).toBe(422);
    expect(((await invalid.json()) as { issues: { path: string }[] }).issues.map((i) => i.path)).toEqual(['email', 'name']);
    const notJson = await fetch('/validate', { method: 'POST', body: '{oops' });
    expect(notJson.status).toBe(400);
  });

  it('counts hits over every thread in shared memory, and streams clock ticks as server-sent events', async () => {
    const { fetch } = await startRuntime({ config: DEMO_CONFIG });
    const hits = (await Promise.all(Array.from({ length: 20 }, async () => ((await (await fetch('/counter')).json()) as { hits: number }).hits)));
    expect(hits.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));

    const clock = await fetch('/clock?ticks=2');
    expect(clock.headers.get('content-type')).toBe('text/event-stream');
    const events = (await clock.text()).split('\n\n').filter(Boolean);
    expect(events.map((event) => event.split('\n')[0])).toEqual(['event: tick', 'event: tick']);
    expect(JSON.parse(events[1]!.split('data: ')[1]!)).toMatchObject({ i: 2 });
  });

  it('answers HEAD for GET routes with the headers and no body', async () => {
    const { fetch } = await startRuntime({ config: DEMO_CONFIG });
    const head = await fetch('/hello/ada', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('9');
    expect(head.headers.get('x-fngate-function')).toBe('hello');
    expect(await head.text()).toBe('');
  });
});
