import type { HttpBindings } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { TrieRouter } from 'hono/router/trie-router';
import { mountAdmin, type AdminEndpoints } from './admin-routes.js';
import { forwardHandler } from './forward.js';
import { mountHealth, type Readiness } from './health-routes.js';
import type { ResolvedConfig } from '../config/resolve-config.js';
import type { RouteMethod } from '../config/routes.js';
import { FngateError } from '../common/errors.js';
import type { RequestRecorder } from '../observe/monitor.js';
import type { TaskEnvelope } from '../protocol/envelope.js';
import { newRequestId } from '../protocol/request-id.js';
import type { Invocation, Invoke } from '../protocol/invocation.js';
import { kFunction } from './guarded-response.js';
import { readBody } from './read-body.js';
import { asFngateError, errorResponse, replyResponse } from './responses.js';

export interface GatewayRoute {
  readonly method: RouteMethod;
  /** Hono path syntax. */
  readonly path: string;
  /** The function that serves it. */
  readonly fn: string;
  /** The function runs in another deployment group, at this base URL: requests are forwarded there. */
  readonly forward?: { readonly group: string; readonly url: string };
}

/** Every route of the config; a function of a forwarded group (`--forward`) is served by forwarding. */
export function gatewayRoutes(config: ResolvedConfig, forward: Readonly<Record<string, string>>): GatewayRoute[] {
  return Object.values(config.functions).flatMap((fn) => {
    const url = fn.group === null ? undefined : forward[fn.group];
    return fn.routes.map((route) => ({
      method: route.method,
      path: route.path,
      fn: fn.name,
      ...(url !== undefined && { forward: { group: fn.group!, url } }),
    }));
  });
}

export interface GatewayOptions {
  readonly routes: readonly GatewayRoute[];
  /** Bytes. */
  readonly bodyLimit: number;
  /** Milliseconds; see Gateway. */
  readonly sendTimeout: number;
  /** Bytes; see Gateway. */
  readonly sendBufferLimit: number;
  /** Include stacks in error bodies (dev only). */
  readonly exposeStacks: boolean;
  /** Starts a request on a function; throws an FngateError when it cannot (e.g. unavailable). */
  readonly invoke: Invoke;
  /** Where each function's answers are counted and logged. */
  readonly recorder: (fn: string) => RequestRecorder;
  /** Told of each request no function got (404, 405, 400), for the request log. */
  readonly unrouted?: (method: string, target: string, error: FngateError) => void;
  /** The /_fngate/ endpoints; null: off (they answer 404). /_fngate/live and /ready are always on. */
  readonly admin: AdminEndpoints | null;
  /** What /_fngate/ready says. */
  readonly readiness: () => Readiness;
  /** Whether a request may name this Host (see host-check.ts); null: any may. */
  readonly hostAllowed: ((host: string | undefined) => boolean) | null;
}

export interface Gateway {
  /** The handler @hono/node-server calls for every request. */
  fetch(request: Request, env: HttpBindings): Response | Promise<Response>;
  /** Bytes (server.bodyLimit), for refusing an announced body before it is sent. */
  readonly bodyLimit: number;
  /** Milliseconds a client may take nothing of a response it is sent (server.sendTimeout). */
  readonly sendTimeout: number;
  /** Bytes of response data clients that stopped reading may hold together (server.sendBufferLimit). */
  readonly sendBufferLimit: number;
}

type GatewayContext = Context<{ Bindings: HttpBindings }>;

const ALL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * The Hono app for one route table. A config change builds a new gateway; the server swaps
 * the one it calls in a single assignment (Hono cannot add routes after the first request).
 * Its thread only routes, moves bytes and keeps books: every handler runs on a worker.
 */
export function createGateway(options: GatewayOptions): Gateway {
  const app = new Hono<{ Bindings: HttpBindings }>();
  const paths = new TrieRouter<RouteMethod>();
  mountHealth(app, options.readiness);
  mountAdmin(app, options.admin);
  const recorders = new Map<string, RequestRecorder>();
  for (const route of options.routes) {
    let recorder = recorders.get(route.fn);
    if (recorder === undefined) {
      recorder = options.recorder(route.fn);
      recorders.set(route.fn, recorder);
    }
    const handle =
      route.forward === undefined
        ? functionHandler(route.fn, route.path.includes(':'), recorder, options)
        : forwardHandler(route.fn, route.forward.group, route.forward.url, recorder);
    if (route.method === 'ANY') app.all(route.path, handle);
    else app.on(route.method, route.path, handle);
    paths.add('ALL', route.path, route.method);
  }

  const unrouted = (method: string, target: string, error: FngateError): Response => {
    options.unrouted?.(method, target, error);
    return errorResponse(error, false);
  };

  app.notFound((c) => {
    const target = c.env.incoming.url ?? c.req.path;
    const [matches] = paths.match(c.req.method, c.req.path);
    if (matches.length === 0) {
      return unrouted(c.req.method, target, new FngateError('FNGATE_NOT_FOUND', `no route matches ${c.req.method} ${c.req.path}`));
    }
    const allowed = new Set<string>();
    for (const [method] of matches) {
      if (method === 'ANY') ALL_METHODS.forEach((m) => allowed.add(m));
      else allowed.add(method);
      if (method === 'GET') allowed.add('HEAD');
    }
    const allow = ALL_METHODS.filter((m) => allowed.has(m)).join(', ');
    return unrouted(
      c.req.method,
      target,
      new FngateError('FNGATE_METHOD_NOT_ALLOWED', `${c.req.path} does not accept ${c.req.method}; allowed: ${allow}`, {
        headers: { allow },
      }),
    );
  });

  app.onError((error) => errorResponse(asFngateError(error), options.exposeStacks));

  return {
    bodyLimit: options.bodyLimit,
    sendTimeout: options.sendTimeout,
    sendBufferLimit: options.sendBufferLimit,
    fetch(request, env) {
      const target = env.incoming.url ?? '/';
      // Before routing: a rebinding page must not learn even which paths exist.
      if (options.hostAllowed !== null && !options.hostAllowed(env.incoming.headers.host)) {
        return unrouted(request.method, target, hostNotAllowed(env.incoming.headers.host!));
      }
      if (target.includes('%')) {
        const path = target.split('?', 1)[0]!;
        try {
          decodeURIComponent(path);
        } catch {
          return unrouted(request.method, target, new FngateError('FNGATE_BAD_REQUEST', `invalid percent-encoding in path ${path}`));
        }
      }
      return app.fetch(request, env);
    },
  };
}

function hostNotAllowed(host: string): FngateError {
  return new FngateError(
    'FNGATE_HOST_NOT_ALLOWED',
    `Host "${host}" is not allowed: fngate listens on a loopback address and answers only requests for localhost or a loopback IP ` +
      '(protection against DNS rebinding); to use this name, add it to server.allowedHosts in config.yaml',
  );
}

const kInvocation = Symbol('fngate.invocation');
type InvokedResponse = GatewayContext['env']['outgoing'] & { [kInvocation]?: Invocation; [kFunction]?: string };

/** A response closed before it was finished: its client left, so its request is cancelled. */
function cancelIfUnanswered(this: InvokedResponse): void {
  if (!this.writableFinished) this[kInvocation]?.cancel();
}

function functionHandler(fn: string, hasParams: boolean, recorder: RequestRecorder, options: GatewayOptions) {
  return async (c: GatewayContext): Promise<Response> => {
    const { incoming, outgoing } = c.env;
    // Should Node refuse to write the reply, the error answer names the function.
    (outgoing as InvokedResponse)[kFunction] = fn;
    const method = c.req.method;
    const started = performance.now();
    const requestId = newRequestId();
    try {
      const body = method === 'GET' || method === 'HEAD' ? null : await readBody(incoming, options.bodyLimit, fn);
      // The deadline (last slot) is set by the function's pool, which knows its timeout.
      const envelope: TaskEnvelope = [requestId, method, c.req.url, incoming.rawHeaders, body, hasParams ? c.req.param() : null, 0];
      // The pool cuts `outgoing` if a streamed body fails midway (its headers are out by then).
      const invocation = options.invoke(fn, envelope, outgoing);
      // One shared listener instead of a closure per request: this is the hot path.
      (outgoing as InvokedResponse)[kInvocation] = invocation;
      outgoing.on('close', cancelIfUnanswered);
      const reply = await invocation.reply;
      recorder.answered(method, incoming.url ?? '/', reply);
      return replyResponse(reply, fn, requestId, invocation.body, method === 'HEAD');
    } catch (error) {
      const failure = asFngateError(error);
      const totalMs = performance.now() - started;
      recorder.failed(method, incoming.url ?? '/', failure, totalMs);
      if (!outgoing.headersSent) {
        outgoing.setHeader('x-request-id', String(requestId));
        // No queue/run split is known for a failure: how long the gateway waited for it.
        outgoing.setHeader('server-timing', `total;dur=${Math.round(totalMs * 100) / 100}`);
      }
      throw failure;
    }
  };
}
