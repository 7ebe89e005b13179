import { readFileSync } from 'node:fs';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { RESERVED_PREFIX } from '../config/routes.js';
import { FngateError } from '../common/errors.js';
import { errorResponse } from './responses.js';
import { DASHBOARD_PAGE } from '../common/runtime-files.js';
import type { StatusReport } from '../observe/status-report.js';

/** What the /_fngate/ endpoints serve. null when they are off. */
export interface AdminEndpoints {
  /** Required as `Authorization: Bearer TOKEN` or `?token=TOKEN`; null: open (to this host's clients). */
  readonly token: string | null;
  status(): StatusReport;
  /** Prometheus text exposition. */
  metrics(): Promise<{ readonly contentType: string; readonly body: string }>;
  /**
   * Runs a scheduled function now (POST /_fngate/trigger/NAME) and resolves when it is over;
   * throws an FngateError when it cannot start (no schedule, a run going on).
   */
  trigger(name: string): Promise<TriggerResult>;
}

export type TriggerResult =
  | { readonly ok: true; readonly ms: number; readonly scheduledTime: number }
  | { readonly ok: false; readonly error: FngateError };

const TRIGGER = '/trigger/';

let dashboardHtml: string | undefined;

/**
 * Mounts GET /_fngate/ (dashboard), /_fngate/status (JSON) and /_fngate/metrics (Prometheus) on
 * the gateway's app, before any function route. When `admin` is null they answer 404 saying how
 * to turn them on, so no function route can ever serve under the prefix.
 */
export function mountAdmin(app: Hono<any>, admin: AdminEndpoints | null): void {
  const prefix = RESERVED_PREFIX;
  // One terminal handler for the whole prefix: a function route such as `ANY /*` never sees it.
  const handle = async (c: Context): Promise<Response> => {
    if (admin === null) {
      return errorResponse(
        new FngateError('FNGATE_NOT_FOUND', `the ${prefix}/ endpoints are off; turn them on with server.admin: true (or { token }) in config.yaml`),
        false,
      );
    }
    if (admin.token !== null && !authorized(c.req.header('authorization'), c.req.query('token'), admin.token)) {
      return errorResponse(
        new FngateError('FNGATE_UNAUTHORIZED', `${prefix}/ needs the admin token: send "Authorization: Bearer TOKEN" or add ?token=TOKEN`, {
          headers: { 'www-authenticate': 'Bearer realm="fngate"' },
        }),
        false,
      );
    }
    const page = c.req.path.slice(prefix.length);
    if (page.startsWith(TRIGGER)) return trigger(c, admin, decodeURIComponent(page.slice(TRIGGER.length)));
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      return errorResponse(
        new FngateError('FNGATE_METHOD_NOT_ALLOWED', `${c.req.path} does not accept ${c.req.method}; allowed: GET, HEAD`, {
          headers: { allow: 'GET, HEAD' },
        }),
        false,
      );
    }
    c.header('cache-control', 'no-store');
    switch (page) {
      case '':
        return c.redirect(`${prefix}/${new URL(c.req.url).search}`, 308);
      case '/':
        dashboardHtml ??= readFileSync(DASHBOARD_PAGE, 'utf8');
        return c.html(dashboardHtml);
      case '/status':
        return c.json(admin.status());
      case '/metrics': {
        const { contentType, body } = await admin.metrics();
        return c.body(body, 200, { 'content-type': contentType });
      }
      default:
        return errorResponse(
          new FngateError('FNGATE_NOT_FOUND', `no fngate endpoint ${c.req.path}; there are ${prefix}/ (dashboard), ${prefix}/status, ${prefix}/metrics and POST ${prefix}/trigger/NAME`),
          false,
        );
    }
  };
  app.all(prefix, handle);
  app.all(`${prefix}/*`, handle);
}

/** POST /_fngate/trigger/NAME: the run's outcome, 200 with its duration or the run's own error. */
async function trigger(c: Context, admin: AdminEndpoints, name: string): Promise<Response> {
  if (c.req.method !== 'POST') {
    return errorResponse(
      new FngateError('FNGATE_METHOD_NOT_ALLOWED', `${c.req.path} does not accept ${c.req.method}; allowed: POST`, { headers: { allow: 'POST' } }),
      false,
    );
  }
  let result: TriggerResult;
  try {
    result = await admin.trigger(name);
  } catch (error) {
    if (error instanceof FngateError) return errorResponse(error, false);
    throw error;
  }
  // No stack: error bodies carry none in fngate start, and the log has it.
  if (!result.ok) return errorResponse(result.error, false);
  return c.json({ function: name, ok: true, ms: result.ms, scheduledTime: new Date(result.scheduledTime).toISOString() }, 200, { 'cache-control': 'no-store' });
}

/** Exported for its test. */
export function authorized(header: string | undefined, query: string | undefined, token: string): boolean {
  // The scheme is case-insensitive (RFC 9110 11.1).
  const bearer = header === undefined ? null : /^bearer\s+(.+)$/i.exec(header);
  const given = bearer ? bearer[1]!.trim() : query;
  if (given === undefined) return false;
  // Digests are always 32 bytes: comparing them takes the same time whatever the token's length,
  // where comparing the tokens themselves would return early, telling a guesser the length.
  return timingSafeEqual(digest(given), digest(token));
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
