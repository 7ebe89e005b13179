import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import { FngateError } from '../common/errors.js';
import type { RequestRecorder } from '../observe/monitor.js';
import type { TaskReply } from '../protocol/reply.js';

/** Connection-level headers: they describe one hop, not the request or the response. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer', 'host']);

/**
 * The handler of a route whose function runs in another deployment group (`deploy.group`, and
 * `--forward GROUP=URL` on this gateway): the request goes to that group's server as it came,
 * body streamed, and its answer comes back as it is: the same status, body, x-fngate-function,
 * Server-Timing and error JSON as when the function runs here. A group that does not answer is
 * 503 FNGATE_UNAVAILABLE naming it.
 */
export function forwardHandler(fn: string, group: string, base: string, recorder: RequestRecorder) {
  return async (c: Context<{ Bindings: HttpBindings }>): Promise<Response> => {
    const started = performance.now();
    const { incoming, outgoing } = c.env;
    const method = c.req.method;
    const headers = new Headers();
    const raw = incoming.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      if (!HOP_BY_HOP.has(raw[i]!.toLowerCase())) headers.append(raw[i]!, raw[i + 1]!);
    }
    const controller = new AbortController();
    outgoing.once('close', () => {
      if (!outgoing.writableFinished) controller.abort();
    });
    let answer: Response;
    try {
      answer = await fetch(new URL(incoming.url ?? '/', base), {
        method,
        headers,
        redirect: 'manual',
        signal: controller.signal,
        ...(method !== 'GET' && method !== 'HEAD' && { body: c.req.raw.body, duplex: 'half' }),
      } as RequestInit);
    } catch (error) {
      const reason = ((error as Error & { cause?: { code?: string } }).cause?.code ?? (error as Error).message);
      const failure = new FngateError('FNGATE_UNAVAILABLE', `${fn} runs in deployment group "${group}" at ${base}, which did not answer (${reason})`, { fn, retryAfter: 1 });
      recorder.failed(method, incoming.url ?? '/', failure, performance.now() - started);
      throw failure;
    }
    const out = new Headers();
    // Iteration yields each set-cookie on its own (Fetch spec), so they stay separate lines.
    for (const [name, value] of answer.headers) if (!HOP_BY_HOP.has(name)) out.append(name, value);
    recorder.answered(method, incoming.url ?? '/', timingOf(answer));
    return new Response(answer.body, { status: answer.status, statusText: answer.statusText, headers: out });
  };
}

/** The group server's Server-Timing as a reply, for this gateway's counters and request log. */
function timingOf(answer: Response): TaskReply {
  const timing = answer.headers.get('server-timing') ?? '';
  const queue = Number(/queue;dur=([\d.]+)/.exec(timing)?.[1] ?? 0);
  const run = Number(/run;dur=([\d.]+)/.exec(timing)?.[1] ?? 0);
  return [answer.status, [], null, run, queue, 0, 0];
}
