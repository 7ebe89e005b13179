import type { Hono } from 'hono';
import { RESERVED_PREFIX } from '../config/routes.js';

/** Whether the process should get traffic: what /_fngate/ready says. */
export interface Readiness {
  /** `starting`: functions still warming; `ready`; `draining`: shutting down (SIGTERM received). */
  readonly state: 'starting' | 'ready' | 'draining';
  /** Functions not warm yet (while starting). */
  readonly warming: readonly string[];
}

const NO_STORE = { 'cache-control': 'no-store', 'content-type': 'application/json; charset=utf-8' };

/**
 * GET /_fngate/live (the process answers) and GET /_fngate/ready (200 once every function is
 * warm, 503 before that and from the first SIGTERM on): on in every mode, without the admin
 * token, for orchestrators' probes and load balancers. Mounted before the admin endpoints, and
 * cheap: no lookup beyond one object.
 */
export function mountHealth(app: Hono<any>, readiness: () => Readiness): void {
  const live = JSON.stringify({ status: 'live' });
  app.get(`${RESERVED_PREFIX}/live`, () => new Response(live, { headers: NO_STORE }));
  app.get(`${RESERVED_PREFIX}/ready`, () => {
    const now = readiness();
    const body = JSON.stringify(now.state === 'starting' ? { status: now.state, warming: now.warming } : { status: now.state });
    return new Response(body, { status: now.state === 'ready' ? 200 : 503, headers: NO_STORE });
  });
}
