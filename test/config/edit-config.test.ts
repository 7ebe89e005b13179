import { describe, expect, it } from 'vitest';
import { withFunctionSettings } from '../../runtime/config/edit-config.js';

/** Like the repository's config.yaml: commented key by key, with aligned trailing comments. */
const DEMO = `# fngate config.

defaults:               # every function inherits these unless it sets its own
  maxThreads: 2         # hard cap on threads per function
  timeout: 30s          # queue wait + run; then 504

functions:
  hello:                            # GET /hello/ada -> "hello ada"
    routes: [GET /hello, GET /hello/:name]

  sort:                             # CPU-heavy: GET /sort?size=5000000
    file: functions/sort.ts
    routes: GET /sort
    timeout: 60s                    # override a default for this function only
    env:                            # the ONLY variables this function sees
      DEFAULT_SIZE: "1000000"

  api:                              # a whole Hono app, exported unchanged
    routes: ANY /api/*
    minThreads: 1
    maxThreads: 1

  validate:                         # bundles an npm dependency (zod)
    routes: POST /validate
`;

/** Lines of `after` that are not in `before`, and the other way round. */
function changed(before: string, after: string): { removed: string[]; added: string[] } {
  const a = before.split('\n');
  const b = after.split('\n');
  return { removed: a.filter((line) => !b.includes(line)), added: b.filter((line) => !a.includes(line)) };
}

describe('withFunctionSettings', () => {
  it("changes a function's existing key in place, keeping its comment's column, and adds the missing ones after its last key", () => {
    const updated = withFunctionSettings(DEMO, 'sort', { maxThreads: 2, concurrency: 1, memoryLimit: '128mb', timeout: '2s' });
    expect(typeof updated).toBe('string');
    expect(changed(DEMO, updated as string)).toEqual({
      removed: ['    timeout: 60s                    # override a default for this function only'],
      added: ['    timeout: 2s                     # override a default for this function only', '    maxThreads: 2', '    concurrency: 1', '    memoryLimit: 128mb'],
    });
    // The new keys follow sort's last key (its env block), before the blank line and api.
    expect(updated).toContain('      DEFAULT_SIZE: "1000000"\n    maxThreads: 2\n    concurrency: 1\n    memoryLimit: 128mb\n\n  api:');
  });

  it('leaves every other function and the defaults as they were', () => {
    const updated = withFunctionSettings(DEMO, 'api', { maxThreads: 2, concurrency: 'auto' }) as string;
    expect(changed(DEMO, updated)).toEqual({
      removed: ['    maxThreads: 1'],
      added: ['    maxThreads: 2', '    concurrency: auto'],
    });
    expect(updated.indexOf('    concurrency: auto')).toBeGreaterThan(updated.indexOf('  api:'));
    expect(updated.indexOf('    concurrency: auto')).toBeLessThan(updated.indexOf('  validate:'));
  });

  it('keeps CRLF line endings and a file without a final newline', () => {
    const text = 'functions:\r\n  hash:\r\n    routes: POST /hash';
    expect(withFunctionSettings(text, 'hash', { maxThreads: 2 })).toBe('functions:\r\n  hash:\r\n    routes: POST /hash\r\n    maxThreads: 2\r\n');
  });

  it('refuses a function written in flow style, naming what to set by hand', () => {
    const result = withFunctionSettings('functions:\n  hash: { routes: POST /hash }\n', 'hash', { maxThreads: 2, timeout: '1s' });
    expect(result).toEqual({ error: 'functions.hash is not a block mapping (one key per line); set maxThreads: 2, timeout: 1s under functions.hash by hand' });
  });
});
