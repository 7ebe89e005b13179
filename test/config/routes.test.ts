import { describe, expect, it } from 'vitest';
import { parseRoute, pathsOverlap, routesCollide, type ResolvedRoute } from '../../runtime/config/routes.js';

const route = (source: string): ResolvedRoute => {
  const parsed = parseRoute(source);
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed;
};

describe('parseRoute', () => {
  it('normalizes the method and keeps the path and the source as written', () => {
    expect(parseRoute('get /users/:id')).toEqual({ method: 'GET', path: '/users/:id', source: 'GET /users/:id' });
  });

  it.each([
    ['GET', 'expected "METHOD /path"'],
    ['HEAD /x', 'every GET route also answers HEAD'],
    ['FETCH /x', 'unknown method "FETCH"'],
    ['GET x', 'must start with "/"'],
    ['GET /_fngate/status', 'reserved'],
    ['GET /a//b', 'empty segment'],
    ['GET /a/:id?/b', 'must be the last segment'],
    ['GET /a/:id/:id', 'appears twice'],
    ['GET /a/:id{[}', 'invalid pattern'],
    ['GET /a/:-x', 'invalid parameter'],
    ['GET /a/b c', 'expected "METHOD /path"'],
    ['GET /a/<b>', 'characters not allowed'],
  ])('rejects %j: %s', (source, reason) => {
    const parsed = parseRoute(source);
    expect('error' in parsed && parsed.error).toContain(reason);
  });
});

describe('pathsOverlap', () => {
  it.each([
    ['/users/:id', '/users/:name', true],
    ['/users/:id', '/users/me', true],
    ['/users/:id', '/users', false],
    ['/files/:name?', '/files', true],
    ['/w/*', '/w/x/y', true],
    ['/w/*', '/w', true],
    ['/x', '/x/', false],
    ['/static*', '/static/app.js', true],
    ['/static*', '/users', false],
    ['/n/:id{[0-9]+}', '/n/7', true],
    ['/n/:id{[0-9]+}', '/n/abc', false],
    ['/n/:id{[0-9]+}', '/n/:slug{[a-z]+}', false],
    ['/deep/:p{.+}', '/deep/a/b', true],
    ['/a/:x/c', '/a/b/:y', true],
    ['/a/:x/c', '/a/b/d', false],
  ])('%s and %s: %s', (a, b, expected) => {
    expect(pathsOverlap(a, b)).toBe(expected);
    expect(pathsOverlap(b, a)).toBe(expected);
  });
});

describe('routesCollide', () => {
  it('needs a method in common; ANY has every method', () => {
    expect(routesCollide(route('GET /x'), route('POST /x'), false)).toBe(false);
    expect(routesCollide(route('ANY /x'), route('DELETE /x'), false)).toBe(true);
  });

  it('lets one function list overlapping routes, but not the same shape twice', () => {
    expect(routesCollide(route('GET /users/:id'), route('GET /users/me'), true)).toBe(false);
    expect(routesCollide(route('GET /users/:id'), route('GET /users/:name'), true)).toBe(true);
    expect(routesCollide(route('GET /users/:id'), route('GET /users/me'), false)).toBe(true);
  });
});
