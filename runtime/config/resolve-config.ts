import { existsSync, realpathSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { relative, resolve } from 'node:path';
import { isInside } from '../common/is-inside.js';
import { cronProblem, isTimezone, type CronSchedule } from './cron.js';
import { parseRoute, routesCollide, type ResolvedRoute } from './routes.js';
import type { UserConfig } from './schema.js';
import { formatSize, parseDuration, parseSize } from './units.js';

export interface ResolvedServer {
  readonly host: string;
  readonly port: number;
  /** Bytes. */
  readonly bodyLimit: number;
  /** Milliseconds. */
  readonly shutdownTimeout: number;
  /** Milliseconds between SIGTERM (ready turns 503) and refusing new requests. */
  readonly drainDelay: number;
  /** Port of the separate Prometheus endpoint, or null (off). */
  readonly metricsPort: number | null;
  /** Milliseconds a client has to send its headers. */
  readonly headersTimeout: number;
  /** Milliseconds a client has to send its whole request. */
  readonly requestTimeout: number;
  /** Milliseconds a client may take none of a response before its connection is closed. */
  readonly sendTimeout: number;
  /** Bytes of response data clients that stopped reading may hold together. */
  readonly sendBufferLimit: number;
  /**
   * Host names requests may name besides localhost and loopback IPs while the server listens on
   * a loopback address (lower-case; `.example.test` = it and its subdomains), or `true`: any.
   */
  readonly allowedHosts: true | readonly string[];
  /**
   * The `/_fngate/` endpoints: `undefined` when config does not say (on in dev, off in start),
   * `false` off, else on, behind `token` when it is not null.
   */
  readonly admin: false | { readonly token: string | null } | undefined;
}

export interface ResolvedPoolSettings {
  readonly minThreads: number;
  readonly maxThreads: number;
  /** Milliseconds. */
  readonly idleTimeout: number;
  readonly maxQueue: number;
  /** Milliseconds, queue wait plus run. */
  readonly timeout: number;
  /** Bytes of worker heap. */
  readonly memoryLimit: number;
  /** Requests one thread runs at once, or `auto` (see AUTO_CONCURRENCY in the pool). */
  readonly concurrency: number | 'auto';
}

export interface ResolvedFunction extends ResolvedPoolSettings {
  readonly name: string;
  /** Absolute path of the function module. */
  readonly file: string;
  readonly routes: readonly ResolvedRoute[];
  /** Exactly the variables declared in config, `${VAR}` references already substituted. */
  readonly env: Readonly<Record<string, string>>;
  /** How the module is called (see the schema). */
  readonly type: 'auto' | 'handler' | 'fetch' | 'lambda';
  /** Bytes of SharedArrayBuffer shared by the function's threads (ctx.shared); 0 = none. */
  readonly sharedMemory: number;
  /** Its deployment group (`deploy.group`), or null: it runs with the gateway. */
  readonly group: string | null;
  /** Packages loaded from node_modules at run time instead of bundled (`external`); `all`: every package. */
  readonly external: 'all' | readonly string[];
  /** Its cron schedule (`schedule`, `timezone`), or null: it runs only for requests. */
  readonly schedule: CronSchedule | null;
}

export interface ResolvedConfig {
  /** Absolute path of the config file. */
  readonly file: string;
  /** The project directory: the config file's directory. Function files must live inside it. */
  readonly root: string;
  readonly server: ResolvedServer;
  /** In config order. */
  readonly functions: Readonly<Record<string, ResolvedFunction>>;
}

export const SERVER_DEFAULTS = {
  host: '127.0.0.1',
  port: 3000,
  bodyLimit: '10mb',
  shutdownTimeout: '10s',
  drainDelay: 0,
  headersTimeout: '10s',
  requestTimeout: '60s',
  sendTimeout: '60s',
  sendBufferLimit: '256mb',
} as const;

export const POOL_DEFAULTS = {
  minThreads: 1,
  idleTimeout: '30s',
  maxQueue: 64,
  timeout: '30s',
  memoryLimit: '512mb',
  concurrency: 'auto',
} as const;

/** A SharedArrayBuffer is allocated up front: keep typos like `1tb` from taking the machine. */
const MAX_SHARED_MEMORY = 1024 * 1024 * 1024;

/** Below this a worker cannot even load a small bundle. */
const MIN_MEMORY_LIMIT = 16 * 1024 * 1024;

export interface ConfigIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

export interface ResolveContext {
  /** Absolute path of the config file. */
  readonly file: string;
  /** Environment used for `${VAR}` references in function env. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * Turns a schema-valid config into a fully resolved one, or lists every semantic problem
 * (missing files, route conflicts, impossible thread limits) with its key path.
 */
export function resolveConfig(
  user: UserConfig,
  context: ResolveContext,
): { config: ResolvedConfig; issues?: undefined } | { config?: undefined; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const root = resolve(context.file, '..');
  const rootReal = safeRealpath(root);
  const defaults = user.defaults ?? {};

  const server: ResolvedServer = {
    host: user.server?.host ?? SERVER_DEFAULTS.host,
    port: user.server?.port ?? SERVER_DEFAULTS.port,
    bodyLimit: parseSize(user.server?.bodyLimit ?? SERVER_DEFAULTS.bodyLimit),
    shutdownTimeout: parseDuration(user.server?.shutdownTimeout ?? SERVER_DEFAULTS.shutdownTimeout),
    drainDelay: parseDuration(user.server?.drainDelay ?? SERVER_DEFAULTS.drainDelay),
    metricsPort: user.server?.metricsPort ?? null,
    headersTimeout: parseDuration(user.server?.headersTimeout ?? SERVER_DEFAULTS.headersTimeout),
    requestTimeout: parseDuration(user.server?.requestTimeout ?? SERVER_DEFAULTS.requestTimeout),
    sendTimeout: parseDuration(user.server?.sendTimeout ?? SERVER_DEFAULTS.sendTimeout),
    sendBufferLimit: parseSize(user.server?.sendBufferLimit ?? SERVER_DEFAULTS.sendBufferLimit),
    allowedHosts: resolveAllowedHosts(user.server?.allowedHosts, issues),
    admin: resolveAdmin(user.server?.admin, context.env, issues),
  };
  if (server.headersTimeout <= 0 || server.requestTimeout <= 0) {
    issues.push({ path: ['server', server.headersTimeout <= 0 ? 'headersTimeout' : 'requestTimeout'], message: 'must be greater than 0' });
  } else if (server.requestTimeout < server.headersTimeout) {
    issues.push({
      path: ['server', 'requestTimeout'],
      message: `requestTimeout (${server.requestTimeout} ms) must be >= headersTimeout (${server.headersTimeout} ms)`,
    });
  }

  if (server.sendTimeout <= 0) issues.push({ path: ['server', 'sendTimeout'], message: 'must be greater than 0' });

  const entries = Object.entries(user.functions ?? {});
  if (entries.length === 0) {
    issues.push({ path: ['functions'], message: 'expected at least one function' });
  }

  // Route shape + method -> the function and route that claimed it first.
  const claims: { fn: string; route: ResolvedRoute }[] = [];
  const functions: Record<string, ResolvedFunction> = {};

  for (const [name, fn] of entries) {
    const at = (...rest: (string | number)[]) => ['functions', name, ...rest];

    const explicitFile = fn.file !== undefined;
    const file = resolve(root, fn.file ?? `functions/${name}.ts`);
    const fileKey = explicitFile ? at('file') : at();
    const shownFile = relative(root, file) || file;
    if (!isInside(rootReal, existsSync(file) ? safeRealpath(file) : file)) {
      issues.push({ path: fileKey, message: `${shownFile} lies outside the project directory ${root}` });
    } else if (!existsSync(file)) {
      const hint = explicitFile ? '' : ` (the default for "${name}"; set file: to use another path)`;
      issues.push({ path: fileKey, message: `${shownFile} does not exist${hint}` });
    } else if (!statSync(file).isFile()) {
      issues.push({ path: fileKey, message: `${shownFile} is not a file` });
    }

    const routes: ResolvedRoute[] = [];
    const routeList = typeof fn.routes === 'string' ? [fn.routes] : (fn.routes ?? []);
    if (fn.routes === undefined && fn.schedule === undefined) {
      issues.push({ path: at(), message: 'expected routes (like "GET /hello"), a schedule (like "*/5 * * * *"), or both' });
    } else if (routeList.length === 0 && fn.schedule === undefined) {
      issues.push({ path: at('routes'), message: 'expected at least one route like "GET /hello" (or a schedule)' });
    }
    const schedule = resolveSchedule(fn.schedule, fn.timezone, (key, message) => issues.push({ path: at(key), message }));
    routeList.forEach((source, index) => {
      const routePath = typeof fn.routes === 'string' ? at('routes') : at('routes', index);
      const parsed = parseRoute(source);
      if ('error' in parsed) {
        issues.push({ path: routePath, message: `${parsed.error}, got ${JSON.stringify(source)}` });
        return;
      }
      // The same shape twice is a duplicate; another function's route that could match the same
      // requests is a conflict (the router would silently give them to one of the two).
      const previous = claims.find((claim) => routesCollide(claim.route, parsed, claim.fn === name));
      if (previous) {
        const owner = previous.fn === name ? 'this function' : `function "${previous.fn}"`;
        issues.push({ path: routePath, message: `route "${parsed.source}" overlaps "${previous.route.source}" already claimed by ${owner}` });
      } else {
        claims.push({ fn: name, route: parsed });
      }
      routes.push(parsed);
    });

    const minThreads = fn.minThreads ?? defaults.minThreads ?? POOL_DEFAULTS.minThreads;
    const explicitMax = fn.maxThreads ?? defaults.maxThreads;
    // Without an explicit cap, use the core count but never less than the warm threads asked for.
    const maxThreads = explicitMax ?? Math.max(availableParallelism(), minThreads);
    if (minThreads > maxThreads) {
      const minKey = fn.minThreads !== undefined ? at('minThreads') : ['defaults', 'minThreads'];
      issues.push({
        path: minKey,
        message: `minThreads (${minThreads}) must be <= maxThreads (${maxThreads})`,
      });
    }

    const timeout = parseDuration(fn.timeout ?? defaults.timeout ?? POOL_DEFAULTS.timeout);
    if (timeout <= 0) {
      issues.push({ path: fn.timeout !== undefined ? at('timeout') : ['defaults', 'timeout'], message: 'timeout must be greater than 0' });
    }
    const memoryLimit = parseSize(fn.memoryLimit ?? defaults.memoryLimit ?? POOL_DEFAULTS.memoryLimit);
    if (memoryLimit < MIN_MEMORY_LIMIT) {
      issues.push({
        path: fn.memoryLimit !== undefined ? at('memoryLimit') : ['defaults', 'memoryLimit'],
        message: `memoryLimit must be at least ${formatSize(MIN_MEMORY_LIMIT)}, got ${formatSize(memoryLimit)}`,
      });
    }

    const sharedMemory = parseSize(fn.sharedMemory ?? 0);
    if (sharedMemory > MAX_SHARED_MEMORY) {
      issues.push({ path: at('sharedMemory'), message: `sharedMemory must be at most ${formatSize(MAX_SHARED_MEMORY)}, got ${formatSize(sharedMemory)}` });
    }

    const env: Record<string, string> = {};
    for (const [key, raw] of Object.entries(fn.env ?? {})) {
      const value = substituteEnv(String(raw), context.env);
      if (typeof value === 'object') {
        issues.push({ path: at('env', key), message: value.error });
      } else {
        env[key] = value;
      }
    }

    functions[name] = {
      name,
      file,
      routes,
      minThreads,
      maxThreads,
      idleTimeout: parseDuration(fn.idleTimeout ?? defaults.idleTimeout ?? POOL_DEFAULTS.idleTimeout),
      maxQueue: fn.maxQueue ?? defaults.maxQueue ?? POOL_DEFAULTS.maxQueue,
      timeout,
      memoryLimit,
      concurrency: fn.concurrency ?? defaults.concurrency ?? POOL_DEFAULTS.concurrency,
      env,
      type: fn.type ?? 'auto',
      sharedMemory,
      group: fn.deploy?.group ?? null,
      external: fn.external ?? defaults.external ?? [],
      schedule,
    };
  }

  if (issues.length > 0) return { issues };
  return { config: deepFreeze({ file: context.file, root, server, functions }) };
}

/** `schedule` and `timezone` as the scheduler runs them (UTC unless told), or null without a schedule. */
function resolveSchedule(cron: string | undefined, timezone: string | undefined, problem: (key: string, message: string) => void): CronSchedule | null {
  if (cron === undefined) {
    if (timezone !== undefined) problem('timezone', 'a timezone needs a schedule');
    return null;
  }
  const zone = timezone ?? 'UTC';
  if (!isTimezone(zone)) {
    problem('timezone', `expected an IANA time zone like Europe/Berlin or UTC, got ${JSON.stringify(zone)}`);
    return null;
  }
  const wrong = cronProblem(cron, zone);
  if (wrong !== undefined) {
    problem('schedule', wrong);
    return null;
  }
  return { cron: cron.trim().replace(/\s+/g, ' '), timezone: zone };
}

/** Host names as the Host header carries them, without port or scheme; compared lower-case. */
function resolveAllowedHosts(hosts: true | string[] | undefined, issues: ConfigIssue[]): ResolvedServer['allowedHosts'] {
  if (hosts === undefined) return [];
  if (hosts === true) return true;
  return hosts.flatMap((host, index) => {
    const trimmed = host.trim().toLowerCase().replace(/\.$/, '');
    // An IPv6 address comes bracketed, as in a Host header: [fe80::1].
    const bracketed = /^\[[0-9a-f:.]+\]$/.test(trimmed);
    const name = bracketed ? trimmed.slice(1, -1) : trimmed;
    if (!bracketed && /[\s/@[\]]|:\d*$|^\.?$/.test(name)) {
      issues.push({ path: ['server', 'allowedHosts', index], message: `expected a host name without scheme, port or path (like myapp.test or .myapp.test), got ${JSON.stringify(host)}` });
      return [];
    }
    return [name];
  });
}

function resolveAdmin(
  admin: boolean | { token: string } | undefined,
  env: Readonly<Record<string, string | undefined>>,
  issues: ConfigIssue[],
): ResolvedServer['admin'] {
  if (admin === undefined || admin === false) return admin;
  if (admin === true) return { token: null };
  const token = substituteEnv(admin.token, env);
  if (typeof token === 'object') {
    issues.push({ path: ['server', 'admin', 'token'], message: token.error });
    return false;
  }
  if (token === '') {
    issues.push({ path: ['server', 'admin', 'token'], message: 'the token is empty' });
    return false;
  }
  return { token };
}

/** `${NAME}` and `${NAME:-fallback}` copy a variable from the parent environment, explicitly. */
function substituteEnv(
  value: string,
  env: Readonly<Record<string, string | undefined>>,
): string | { error: string } {
  const missing: string[] = [];
  const result = value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_, name: string, fallback?: string) => {
    const found = env[name];
    if (found !== undefined && found !== '') return found;
    if (fallback !== undefined) return fallback;
    missing.push(name);
    return '';
  });
  if (missing.length > 0) {
    return { error: `references \${${missing[0]}}, which is not set in the environment (use \${${missing[0]}:-default} for a fallback)` };
  }
  return result;
}

function safeRealpath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
