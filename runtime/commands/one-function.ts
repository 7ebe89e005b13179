/**
 * What `fngate invoke` and `fngate tune` share: serving one function alone, and the request
 * their flags describe (--path, --method, --data, -H), or why those flags do not make one.
 */
import { readFileSync } from 'node:fs';
import type { ResolvedConfig, ResolvedFunction } from '../config/resolve-config.js';

/** A request as the flags describe it: header pairs flat, lower-case names. */
export interface FunctionRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: string[];
  readonly body: Buffer | null;
}

/**
 * The one function, alone, with the admin endpoints off: its routes are the only ones served.
 * Any Host is accepted: no browser can reach this server, and `-H "Host: ..."` is the user's.
 */
export function onlyFunction(config: ResolvedConfig, fn: ResolvedFunction): ResolvedConfig {
  return { ...config, server: { ...config.server, admin: false, allowedHosts: true }, functions: { [fn.name]: fn } };
}

/** The request the flags describe, or a usage error saying what is missing (a route with parameters needs --path). */
export function buildRequest(
  fn: ResolvedFunction,
  values: { data?: string | undefined; method?: string | undefined; path?: string | undefined; header?: string[] | undefined },
): FunctionRequest | string {
  const route = fn.routes[0]!;
  const method = (values.method ?? (values.data !== undefined ? 'POST' : route.method === 'ANY' ? 'GET' : route.method)).toUpperCase();
  let path = values.path;
  if (path === undefined) {
    if (/[:*{]/.test(route.path)) return `the route "${route.source}" has parameters: pass the request path with --path`;
    path = route.path;
  }
  if (!path.startsWith('/')) return `--path must start with "/", got "${path}"`;

  const headers: string[] = [];
  for (const header of values.header ?? []) {
    const colon = header.indexOf(':');
    if (colon <= 0) return `invalid header "${header}": expected "Name: value"`;
    headers.push(header.slice(0, colon).trim().toLowerCase(), header.slice(colon + 1).trim());
  }
  let body: Buffer | null = null;
  if (values.data !== undefined) {
    if (method === 'GET' || method === 'HEAD') return `--data cannot be sent with ${method}`;
    try {
      body = values.data === '@-' ? readFileSync(0) : values.data.startsWith('@') ? readFileSync(values.data.slice(1)) : Buffer.from(values.data);
    } catch (error) {
      return `cannot read --data ${values.data}: ${(error as Error).message}`;
    }
    if (!headers.includes('content-type') && values.data.trimStart().match(/^[[{]/)) headers.push('content-type', 'application/json');
  }
  return { method, path, headers, body };
}
