import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../runtime/index.js';
import { parseDuration, parseSize } from '../../runtime/config/units.js';
import { createProject } from '../helpers/project.js';

/** A project with function files hello.ts and sort.ts, and the given config text. */
async function project(configText: string) {
  return createProject({
    'config.yaml': configText,
    'functions/hello.ts': 'export default () => "hi";',
    'functions/sort.ts': 'export default () => "sorted";',
  });
}

async function problemsOf(configText: string, env: Record<string, string> = {}): Promise<string[]> {
  const p = await project(configText);
  try {
    loadConfig(p.path('config.yaml'), { cwd: p.dir, env });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message.split('\n').slice(1).map((line) => line.trim());
  }
  throw new Error('expected the config to be rejected');
}

describe('config', () => {
  it('resolves defaults, durations, sizes and absolute paths into a frozen object', async () => {
    const p = await project(
      [
        'server:',
        '  bodyLimit: 512kb',
        'defaults:',
        '  idleTimeout: 2m',
        'functions:',
        '  hello:',
        '    routes: [GET /hello, GET /hello/:name]',
        '  sort:',
        '    file: functions/sort.ts',
        '    routes: GET /sort',
        '    maxThreads: 2',
        '    timeout: 250ms',
        '    memoryLimit: 64mb',
        '    env: { DEFAULT_SIZE: 1000, FLAG: true }',
      ].join('\n'),
    );
    const config = loadConfig(p.path('config.yaml'), { cwd: p.dir, env: {} });
    expect(config.server).toEqual({
      host: '127.0.0.1',
      port: 3000,
      bodyLimit: 512 * 1024,
      shutdownTimeout: 10_000,
      drainDelay: 0,
      metricsPort: null,
      headersTimeout: 10_000,
      requestTimeout: 60_000,
      sendTimeout: 60_000,
      sendBufferLimit: 256 * 1024 * 1024,
      allowedHosts: [],
    });
    const sort = config.functions.sort!;
    expect(sort.file).toBe(p.path('functions/sort.ts'));
    expect(sort).toMatchObject({ minThreads: 1, maxThreads: 2, idleTimeout: 120_000, maxQueue: 64, timeout: 250 });
    expect(sort.memoryLimit).toBe(64 * 1024 * 1024);
    expect(sort.env).toEqual({ DEFAULT_SIZE: '1000', FLAG: 'true' });
    expect(config.functions.hello!.file).toBe(p.path('functions/hello.ts'));
    expect(config.functions.hello!.routes.map((r) => r.source)).toEqual(['GET /hello', 'GET /hello/:name']);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(sort.routes[0])).toBe(true);
    expect(() => {
      (sort as { maxThreads: number }).maxThreads = 9;
    }).toThrow(TypeError);
  });

  it('parses durations and sizes in every documented form', () => {
    expect(parseDuration(1500)).toBe(1500);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseSize(100)).toBe(100);
    expect(parseSize('512kb')).toBe(524_288);
    expect(parseSize('10mb')).toBe(10 * 1024 ** 2);
    expect(parseSize('1gb')).toBe(1024 ** 3);
    expect(parseSize('100b')).toBe(100);
  });

  it('names the file, line and key path of a wrong type, with what was expected and what it got', async () => {
    const problems = await problemsOf(
      ['functions:', '  sort:', '    file: functions/sort.ts', '    routes: GET /sort', '    maxThreads: two'].join('\n'),
    );
    expect(problems).toEqual(['config.yaml:5 functions.sort.maxThreads: expected a positive integer, got "two"']);
  });

  it('rejects unknown keys at every level and suggests the closest known key', async () => {
    const problems = await problemsOf(
      [
        'server:',
        '  bodyLimt: 10mb',
        'defaults:',
        '  maxThreds: 2',
        'functions:',
        '  hello:',
        '    routes: GET /hello',
        '    tiemout: 5s',
        'extra: 1',
      ].join('\n'),
    );
    expect(problems).toEqual([
      'config.yaml:2 server.bodyLimt: unknown key (did you mean "bodyLimit"?)',
      'config.yaml:4 defaults.maxThreds: unknown key (did you mean "maxThreads"?)',
      'config.yaml:8 functions.hello.tiemout: unknown key (did you mean "timeout"?)',
      expect.stringMatching(/^config\.yaml:9 extra: unknown key/),
    ]);
  });

  it('rejects a server.allowedHosts entry with a scheme or a port', async () => {
    const text = 'server:\n  allowedHosts: [MyApp.Test, "http://x.test", "x.test:3000", .dev.test, "[::1]"]\nfunctions:\n  hello:\n    routes: GET /hello\n';
    expect(await problemsOf(text)).toEqual([
      'config.yaml:2 server.allowedHosts[1]: expected a host name without scheme, port or path (like myapp.test or .myapp.test), got "http://x.test"',
      'config.yaml:2 server.allowedHosts[2]: expected a host name without scheme, port or path (like myapp.test or .myapp.test), got "x.test:3000"',
    ]);
  });

  it('takes external from defaults unless the function sets its own list, or all', async () => {
    const p = await project(
      ['defaults: { external: [pino, "@prisma/client"] }', 'functions:', '  hello: { routes: GET /a }', '  sort: { routes: GET /b, external: all }'].join('\n'),
    );
    const config = loadConfig(p.path('config.yaml'), { cwd: p.dir, env: {} });
    expect(config.functions.hello!.external).toEqual(['pino', '@prisma/client']);
    expect(config.functions.sort!.external).toBe('all');
  });

  it('rejects an external entry that is a path inside a package, and an external that is neither a list nor all', async () => {
    const problems = await problemsOf(['functions:', '  hello:', '    routes: GET /a', '    external: [pino, ./lib/x.js]', '  sort:', '    routes: GET /b', '    external: yes'].join('\n'));
    expect(problems).toEqual([
      'config.yaml:4 functions.hello.external[1]: expected an npm package name like pino or @prisma/client (a package, not a path inside it), got "./lib/x.js"',
      'config.yaml:7 functions.sort.external: expected a list of package names like [pino, pdfkit], or "all", got "yes"',
    ]);
  });

  it('accepts a function with only a schedule, reads its timezone, and defaults the timezone to UTC', async () => {
    const p = await project(['functions:', '  hello: { schedule: "*/5 * * * *" }', '  sort: { routes: GET /b, schedule: "0  */10 * * * *", timezone: Europe/Berlin }'].join('\n'));
    const config = loadConfig(p.path('config.yaml'), { cwd: p.dir, env: {} });
    expect(config.functions.hello).toMatchObject({ routes: [], schedule: { cron: '*/5 * * * *', timezone: 'UTC' } });
    expect(config.functions.sort!.schedule).toEqual({ cron: '0 */10 * * * *', timezone: 'Europe/Berlin' });
  });

  it('rejects a function with neither routes nor a schedule, a cron expression of the wrong length or with a bad value, and an unknown timezone', async () => {
    const problems = await problemsOf(
      [
        'functions:',
        '  hello:',
        '    file: functions/hello.ts',
        '  sort:',
        '    schedule: "* * * *"',
        '  a:',
        '    file: functions/hello.ts',
        '    schedule: "61 * * * *"',
        '  b:',
        '    file: functions/hello.ts',
        '    schedule: "* * * * *"',
        '    timezone: Mars/Olympus',
        '  c:',
        '    file: functions/hello.ts',
        '    routes: GET /c',
        '    timezone: UTC',
      ].join('\n'),
    );
    expect(problems).toEqual([
      'config.yaml:2 functions.hello: expected routes (like "GET /hello"), a schedule (like "*/5 * * * *"), or both',
      'config.yaml:5 functions.sort.schedule: expected a cron expression of 5 fields (minute hour day month weekday) or 6 (seconds first), got 4 fields in "* * * *"',
      'config.yaml:8 functions.a.schedule: "61 * * * *" is not a valid cron expression: Invalid value for minute: 61',
      'config.yaml:12 functions.b.timezone: expected an IANA time zone like Europe/Berlin or UTC, got "Mars/Olympus"',
      'config.yaml:16 functions.c.timezone: a timezone needs a schedule',
    ]);
  });

  it('rejects minThreads greater than maxThreads', async () => {
    const problems = await problemsOf(
      ['functions:', '  hello:', '    routes: GET /hello', '    minThreads: 3', '    maxThreads: 2'].join('\n'),
    );
    expect(problems).toEqual(['config.yaml:4 functions.hello.minThreads: minThreads (3) must be <= maxThreads (2)']);
  });

  it('rejects a route that two functions claim, whatever the parameter names', async () => {
    const problems = await problemsOf(
      [
        'functions:',
        '  hello:',
        '    routes: [GET /users/:id]',
        '  sort:',
        '    routes:',
        '      - POST /users/:id',
        '      - GET /users/:name',
      ].join('\n'),
    );
    expect(problems).toEqual([
      'config.yaml:7 functions.sort.routes[1]: route "GET /users/:name" overlaps "GET /users/:id" already claimed by function "hello"',
    ]);
  });

  it('rejects routes of two functions that could match the same request: optional params, wildcards, patterns', async () => {
    const problems = await problemsOf(
      [
        'functions:',
        '  hello:',
        '    routes: [GET /files/:name?, "GET /n/:id{[0-9]+}", GET /w/*, GET /static*, "GET /deep/:p{.+}"]',
        '  sort:',
        '    routes: [GET /files, GET /n/:id, GET /w/x, GET /files/a/b, "GET /n/:slug{[a-z]+}", GET /n/abc, GET /w, GET /x/, GET /users, GET /static/app.js]',
        '  third:',
        '    file: functions/hello.ts',
        '    routes: [GET /x, GET /n/7, GET /deep/a/b]',
      ].join('\n'),
    );
    // Apart: a longer path, another pattern, a literal the pattern refuses, /x and /x/, a path
    // the glob static* does not match.
    expect(problems).toEqual([
      'config.yaml:5 functions.sort.routes[0]: route "GET /files" overlaps "GET /files/:name?" already claimed by function "hello"',
      'config.yaml:5 functions.sort.routes[1]: route "GET /n/:id" overlaps "GET /n/:id{[0-9]+}" already claimed by function "hello"',
      'config.yaml:5 functions.sort.routes[2]: route "GET /w/x" overlaps "GET /w/*" already claimed by function "hello"',
      'config.yaml:5 functions.sort.routes[6]: route "GET /w" overlaps "GET /w/*" already claimed by function "hello"',
      'config.yaml:5 functions.sort.routes[9]: route "GET /static/app.js" overlaps "GET /static*" already claimed by function "hello"',
      'config.yaml:8 functions.third.routes[1]: route "GET /n/7" overlaps "GET /n/:id{[0-9]+}" already claimed by function "hello"',
      'config.yaml:8 functions.third.routes[2]: route "GET /deep/a/b" overlaps "GET /deep/:p{.+}" already claimed by function "hello"',
    ]);
  });

  it('treats ANY as claiming every method', async () => {
    const problems = await problemsOf(
      ['functions:', '  hello:', '    routes: ANY /x', '  sort:', '    routes: DELETE /x'].join('\n'),
    );
    expect(problems).toEqual([
      'config.yaml:5 functions.sort.routes: route "DELETE /x" overlaps "ANY /x" already claimed by function "hello"',
    ]);
  });

  it('rejects malformed route strings with the reason', async () => {
    const problems = await problemsOf(
      [
        'functions:',
        '  hello:',
        '    routes:',
        '      - GTE /a',
        '      - GET b',
        '      - /c',
        '      - GET /d//e',
        '      - GET /f/:1x',
        '      - GET /_fngate/status',
        '      - HEAD /g',
      ].join('\n'),
    );
    expect(problems).toEqual([
      'config.yaml:4 functions.hello.routes[0]: unknown method "GTE"; expected one of GET, POST, PUT, PATCH, DELETE, OPTIONS, ANY, got "GTE /a"',
      'config.yaml:5 functions.hello.routes[1]: path "b" must start with "/", got "GET b"',
      'config.yaml:6 functions.hello.routes[2]: expected "METHOD /path", e.g. "GET /hello/:name", got "/c"',
      'config.yaml:7 functions.hello.routes[3]: path "/d//e" has an empty segment ("//"), got "GET /d//e"',
      expect.stringMatching(/^config\.yaml:8 functions\.hello\.routes\[4\]: invalid parameter ":1x"/),
      expect.stringMatching(/^config\.yaml:9 functions\.hello\.routes\[5\]: paths under \/_fngate\/ are reserved/),
      expect.stringMatching(/^config\.yaml:10 functions\.hello\.routes\[6\]: HEAD routes are not needed/),
    ]);
  });

  it('points at the list item when a route is not a string (YAML reads "GET /x/:" as a map)', async () => {
    const problems = await problemsOf(['functions:', '  hello:', '    routes:', '      - GET /a', '      - GET /f/:'].join('\n'));
    expect(problems).toEqual([
      'config.yaml:5 functions.hello.routes[1]: expected a route string like "GET /hello" (quote it if it ends with ":"), got a map',
    ]);
  });

  it('rejects a function file that does not exist, naming the default path when none was given', async () => {
    const problems = await problemsOf(
      ['functions:', '  hello:', '    file: functions/nope.ts', '    routes: GET /a', '  thumb:', '    routes: GET /b'].join('\n'),
    );
    expect(problems).toEqual([
      'config.yaml:3 functions.hello.file: functions/nope.ts does not exist',
      'config.yaml:5 functions.thumb: functions/thumb.ts does not exist (the default for "thumb"; set file: to use another path)',
    ]);
  });

  it('rejects a function file outside the project directory', async () => {
    const problems = await problemsOf(['functions:', '  hello:', '    file: ../../etc/passwd', '    routes: GET /a'].join('\n'));
    expect(problems).toEqual([expect.stringMatching(/^config\.yaml:3 functions\.hello\.file: .* lies outside the project directory/)]);
  });

  it('rejects an empty functions map and a missing one', async () => {
    expect(await problemsOf('functions: {}\n')).toEqual(['config.yaml:1 functions: expected at least one function']);
    expect(await problemsOf('server:\n  port: 8080\n')).toEqual([
      expect.stringMatching(/^config\.yaml(:\d+)? functions: missing; expected a map of function name -> settings$/),
    ]);
  });

  it('reports every problem at once, schema and semantic alike, in file order', async () => {
    const problems = await problemsOf(
      [
        'defaults:',
        '  timeout: soon',
        'functions:',
        '  hello:',
        '    routes: GET /hello',
        '    maxQueue: -1',
        '  sort:',
        '    file: functions/missing.ts',
        '    routes: GET /hello',
      ].join('\n'),
    );
    expect(problems).toEqual([
      'config.yaml:2 defaults.timeout: expected a duration like 250ms, 30s, 2m or a number of milliseconds, got "soon"',
      'config.yaml:6 functions.hello.maxQueue: expected a non-negative integer, got -1',
      'config.yaml:8 functions.sort.file: functions/missing.ts does not exist',
      // hello's bad maxQueue does not hide that its route is claimed twice.
      'config.yaml:9 functions.sort.routes: route "GET /hello" overlaps "GET /hello" already claimed by function "hello"',
    ]);
  });

  it('reports a bad default once, not once per function', async () => {
    const problems = await problemsOf(
      ['defaults:', '  memoryLimit: 1mb', 'functions:', '  hello:', '    routes: GET /a', '  sort:', '    routes: GET /b'].join('\n'),
    );
    expect(problems).toEqual(['config.yaml:2 defaults.memoryLimit: memoryLimit must be at least 16 MB, got 1 MB']);
  });

  it('reports YAML syntax errors with their line', async () => {
    const problems = await problemsOf(['functions:', '  hello:', '    routes: [GET /a', '  sort: {}'].join('\n'));
    expect(problems[0]).toMatch(/^config\.yaml:\d+: YAML syntax error: /);
    const duplicate = await problemsOf(['functions:', '  hello:', '    routes: GET /a', '  hello:', '    routes: GET /b'].join('\n'));
    expect(duplicate).toEqual(['config.yaml:4: YAML syntax error: Map keys must be unique']);
  });

  it('copies ${VAR} from the environment only when asked, and rejects an unset one', async () => {
    const p = await project(
      ['functions:', '  hello:', '    routes: GET /a', '    env:', '      TOKEN: "${SECRET}"', '      MODE: "${MODE:-fast}"'].join('\n'),
    );
    const config = loadConfig(p.path('config.yaml'), { cwd: p.dir, env: { SECRET: 's3cret' } });
    expect(config.functions.hello!.env).toEqual({ TOKEN: 's3cret', MODE: 'fast' });
    const problems = await problemsOf(['functions:', '  hello:', '    routes: GET /a', '    env: { TOKEN: "${SECRET}" }'].join('\n'));
    expect(problems).toEqual([expect.stringMatching(/^config\.yaml:4 functions\.hello\.env\.TOKEN: references \$\{SECRET\}, which is not set/)]);
  });

  it('rejects a function name that does not start with a letter, naming the rule', async () => {
    const problems = await problemsOf(['functions:', '  9lives:', '    routes: GET /a'].join('\n'));
    expect(problems).toEqual([
      'config.yaml:2 functions.9lives: expected a function name: a letter, then letters, digits, "-" or "_", got "9lives"',
    ]);
  });

  it('says so when the config file cannot be read', () => {
    expect(() => loadConfig('/nonexistent/config.yaml')).toThrow(/cannot read config: file not found/);
  });

  it('accepts the repository demo config', () => {
    const config = loadConfig(new URL('../../config.yaml', import.meta.url).pathname);
    expect(Object.keys(config.functions)).toEqual(['hello', 'sort', 'echo', 'hash', 'api', 'validate', 'counter', 'clock']);
  });

  it('validates text given in memory the same way', () => {
    expect(() => parseConfig('functions: 3', '/tmp/x/config.yaml', { cwd: '/tmp/x' })).toThrow(
      /config\.yaml:1 functions: expected a map of function name -> settings, got 3/,
    );
  });
});
