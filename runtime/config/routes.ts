/** HEAD is not listed: every GET route answers HEAD (the handler sees method HEAD; the body is dropped). */
export const ROUTE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'ANY'] as const;
export type RouteMethod = (typeof ROUTE_METHODS)[number];

/** Paths under this prefix belong to fngate itself (status, metrics, dashboard). */
export const RESERVED_PREFIX = '/_fngate';

export interface ResolvedRoute {
  /** `ANY` matches every method. A `GET` route also answers `HEAD`. */
  readonly method: RouteMethod;
  /** Hono path syntax: `/users/:id`, `/files/:name?`, `/assets/*`, `/post/:id{[0-9]+}`. */
  readonly path: string;
  /** The route as written in config, for messages and tables. */
  readonly source: string;
}

// A path segment is a literal (optionally with `*` wildcards), a `:param` with an optional
// `{regex}` and optional `?`, or a lone `*`.
const LITERAL_SEGMENT = /^[A-Za-z0-9._~!$&'()+,;=@%*-]+$/;
const PARAM_SEGMENT = /^:([A-Za-z_][A-Za-z0-9_]*)(\{[^{}]+\})?(\?)?$/;

/** Parses `"GET /users/:id"`. Returns the route or a message saying what is wrong. */
export function parseRoute(source: string): ResolvedRoute | { error: string } {
  const match = /^\s*(\S+)\s+(\S+)\s*$/.exec(source);
  if (!match) {
    return { error: 'expected "METHOD /path", e.g. "GET /hello/:name"' };
  }
  const method = match[1]!.toUpperCase();
  const path = match[2]!;
  if (method === 'HEAD') {
    return { error: 'HEAD routes are not needed: every GET route also answers HEAD' };
  }
  if (!(ROUTE_METHODS as readonly string[]).includes(method)) {
    return { error: `unknown method "${match[1]}"; expected one of ${ROUTE_METHODS.join(', ')}` };
  }
  if (!path.startsWith('/')) {
    return { error: `path "${path}" must start with "/"` };
  }
  if (path === RESERVED_PREFIX || path.startsWith(`${RESERVED_PREFIX}/`)) {
    return { error: `paths under ${RESERVED_PREFIX}/ are reserved for fngate's own endpoints` };
  }
  const segments = path.slice(1).split('/');
  const seen = new Set<string>();
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment === '') {
      if (i === segments.length - 1) continue; // "/" or a trailing slash
      return { error: `path "${path}" has an empty segment ("//")` };
    }
    const param = PARAM_SEGMENT.exec(segment);
    if (param) {
      const name = param[1]!;
      if (param[3] && i !== segments.length - 1) {
        return { error: `optional parameter ":${name}?" must be the last segment of "${path}"` };
      }
      if (seen.has(name)) return { error: `parameter ":${name}" appears twice in "${path}"` };
      seen.add(name);
      if (param[2] !== undefined) {
        try {
          new RegExp(param[2].slice(1, -1));
        } catch {
          return { error: `parameter ":${name}" has an invalid pattern ${param[2]}` };
        }
      }
      continue;
    }
    if (segment.startsWith(':')) {
      return { error: `invalid parameter "${segment}" in "${path}"; expected ":name", ":name?" or ":name{regex}"` };
    }
    if (!LITERAL_SEGMENT.test(segment)) {
      return { error: `path "${path}" contains characters not allowed in a route: "${segment}"` };
    }
  }
  return { method: method as RouteMethod, path, source: `${method} ${path}` };
}

/**
 * The shape a route matches, independent of parameter names: `/users/:id` and `/users/:name`
 * claim the same requests, so one function listing both has a duplicate.
 */
export function routeShape(path: string): string {
  return path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, ':');
}

/**
 * Whether some request path could match both routes (Hono path syntax, strict about a trailing
 * slash as the router is): then two functions would compete for it, and the one registered
 * first would silently win. A parameter with a `{regex}` is assumed to match what the regex
 * matches; two different regexes are assumed to be meant to tell requests apart. Where the
 * answer would take more than comparing segments, it is "yes" (a conflict is reported).
 */
export function pathsOverlap(a: string, b: string): boolean {
  return expandOptional(a).some((x) => expandOptional(b).some((y) => overlapFrom(x, 0, y, 0)));
}

/**
 * `literal`: one exact segment; `param`: one segment (`:p`, `:p{regex}`, a `*` between
 * segments, `file*.png` glob); `rest`: this segment and everything after it (a trailing `*`,
 * a regex that matches "/", a trailing glob such as `static*`, with its own text).
 */
type Segment =
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'param'; readonly test: RegExp | undefined }
  | { readonly kind: 'rest'; readonly test: RegExp | undefined; readonly prefix: string };

/** Parsed shapes by path: every route is compared with every other (a hundred functions: 5,000 pairs). */
const shapes = new Map<string, Segment[][]>();

/** `/files/:name?` matches `/files` and `/files/x`: both shapes. */
function expandOptional(path: string): Segment[][] {
  let known = shapes.get(path);
  if (known === undefined) {
    known = parseShapes(path);
    if (shapes.size > 10_000) shapes.clear();
    shapes.set(path, known);
  }
  return known;
}

function parseShapes(path: string): Segment[][] {
  const raw = path.slice(1).split('/');
  const segments = raw.map((text, i) => toSegment(text, i === raw.length - 1));
  return PARAM_SEGMENT.exec(raw[raw.length - 1]!)?.[3] ? [segments.slice(0, -1), segments] : [segments];
}

function toSegment(text: string, last: boolean): Segment {
  if (text === '*') return last ? { kind: 'rest', test: undefined, prefix: '' } : { kind: 'param', test: undefined };
  const param = PARAM_SEGMENT.exec(text);
  if (param) {
    if (param[2] === undefined) return { kind: 'param', test: undefined };
    const test = new RegExp(`^(?:${param[2].slice(1, -1)})$`);
    return test.test('a/b') ? { kind: 'rest', test: undefined, prefix: '' } : { kind: 'param', test };
  }
  if (text.includes('*')) {
    const test = new RegExp(`^${text.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    // A glob at the end also matches across the segments after it (`/static*` takes /static/a/b).
    return last && text.endsWith('*') ? { kind: 'rest', test, prefix: text.slice(0, text.indexOf('*')) } : { kind: 'param', test };
  }
  return { kind: 'literal', text };
}

function overlapFrom(a: readonly Segment[], i: number, b: readonly Segment[], j: number): boolean {
  const x = a[i];
  const y = b[j];
  if (x?.kind === 'rest') return restOverlaps(x, b.slice(j));
  if (y?.kind === 'rest') return restOverlaps(y, a.slice(i));
  if (x === undefined || y === undefined) return x === y;
  return segmentOverlaps(x, y) && overlapFrom(a, i + 1, b, j + 1);
}

/** A rest segment against what the other route has from there on. */
function restOverlaps(rest: Extract<Segment, { kind: 'rest' }>, others: readonly Segment[]): boolean {
  if (rest.test === undefined) return true;
  const texts = others.map((s) => (s.kind === 'literal' ? s.text : undefined));
  const known = texts.indexOf(undefined);
  if (known === -1) return rest.test.test(texts.join('/'));
  // Only the other path's literal start is known: it must agree with the glob's literal start.
  const start = `${texts.slice(0, known).join('/')}${known > 0 ? '/' : ''}`;
  return start.startsWith(rest.prefix) || rest.prefix.startsWith(start);
}

function segmentOverlaps(x: Segment, y: Segment): boolean {
  if (x.kind === 'literal' && y.kind === 'literal') return x.text === y.text;
  if (x.kind === 'literal') return literalMatches(x.text, y);
  if (y.kind === 'literal') return literalMatches(y.text, x);
  const [p, q] = [(x as { test?: RegExp }).test, (y as { test?: RegExp }).test];
  return p === undefined || q === undefined || p.source === q.source;
}

function literalMatches(text: string, other: Segment): boolean {
  const test = (other as { test?: RegExp }).test;
  return test === undefined ? text !== '' : test.test(text);
}

/**
 * Whether route `b` may not be declared next to `a`: the same shape twice (a duplicate), or,
 * between two functions, paths that could match the same request for a common method.
 */
export function routesCollide(a: ResolvedRoute, b: ResolvedRoute, sameFunction: boolean): boolean {
  const methods = claimedMethods(b.method);
  if (!claimedMethods(a.method).some((m) => methods.includes(m))) return false;
  return routeShape(a.path) === routeShape(b.path) || (!sameFunction && pathsOverlap(a.path, b.path));
}

/** The methods a route claims; `ANY` claims all of them. */
export function claimedMethods(method: RouteMethod): readonly RouteMethod[] {
  return method === 'ANY' ? ROUTE_METHODS.filter((m) => m !== 'ANY') : [method];
}
