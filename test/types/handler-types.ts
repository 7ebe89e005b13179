// Compiled by `npx tsc --noEmit` (not run): what the public types accept and refuse. A line
// marked @ts-expect-error that starts to type-check fails the type check.
import { Hono } from 'hono';
import type { Context, FetchModule, Handler, HandlerResult, LambdaScheduledEvent, ScheduledController, ScheduledHandler } from 'fngate';

interface User {
  id: string;
  name: string;
}
const user: User = { id: '1', name: 'Ada' };

export const accepted: Handler[] = [
  () => 'text',
  () => ({ ok: true }),
  () => user, // an interface-typed object is JSON too
  () => [1, 'two'],
  () => 42,
  () => null,
  () => {},
  async () => Response.json({ ok: true }),
  () => new Uint8Array([1]),
  () => new Blob(['x'], { type: 'text/plain' }),
  () => new ReadableStream<Uint8Array>(),
  () => (async function* () { yield 'chunk'; })(),
  (_req, ctx) => ctx.params.name ?? ctx.env.GREETING ?? ctx.requestId,
];

// @ts-expect-error a function is not a response
export const returnsFunction: Handler = () => () => 1;
// @ts-expect-error nor a promise of one
export const resolvesFunction: Handler = async () => () => 2;
// @ts-expect-error nor a symbol
export const returnsSymbol: Handler = () => Symbol('x');

// A Hono app is a FetchModule as it is: its ExecutionContext is a subset of Context.
export const hono = new Hono() satisfies FetchModule;
export const workers = {
  fetch(req: Request, env: { REGION: string }, ctx: Context<{ REGION: string }>) {
    ctx.waitUntil(Promise.resolve());
    return new Response(`${env.REGION} ${new URL(req.url).pathname}`);
  },
} satisfies FetchModule<{ REGION: string }>;

// A Workers module with a scheduled() handler, and one exported on its own.
export const withSchedule = {
  fetch: () => new Response('ok'),
  async scheduled(controller, env, ctx) {
    ctx.waitUntil(Promise.resolve(`${controller.cron} ${controller.scheduledTime} ${env.REGION}`));
  },
} satisfies FetchModule<{ REGION: string }>;
export const scheduled: ScheduledHandler = (controller: ScheduledController) => void controller.noRetry();
// @ts-expect-error a scheduled handler returns nothing to answer with
export const scheduledAnswers: ScheduledHandler = () => 'done';
export const nightly = async (event: LambdaScheduledEvent) => event['detail-type'];

export type Result = HandlerResult;
