import { relative } from 'node:path';
import type { ResolvedConfig, ResolvedFunction, ResolvedServer } from './resolve-config.js';
import { formatDuration, formatSize } from './units.js';

/** Settings that live in a function's pool or bundle: changing one needs a new version. */
const POOL_KEYS = ['minThreads', 'maxThreads', 'idleTimeout', 'maxQueue', 'timeout', 'memoryLimit', 'concurrency', 'type', 'sharedMemory'] as const;

export interface FunctionChange {
  readonly before: ResolvedFunction;
  readonly after: ResolvedFunction;
  /** A new version (new pool) is needed: the file, a pool setting, `external` or the env changed. */
  readonly needsNewVersion: boolean;
  /** Human summary, e.g. `maxThreads 2->4`, `routes`, `env ~API_KEY`. */
  readonly details: readonly string[];
}

export interface ServerChange {
  readonly key:
    | 'host'
    | 'port'
    | 'bodyLimit'
    | 'shutdownTimeout'
    | 'drainDelay'
    | 'headersTimeout'
    | 'requestTimeout'
    | 'sendTimeout'
    | 'sendBufferLimit'
    | 'allowedHosts'
    | 'metricsPort'
    | 'admin';
  readonly before: string;
  readonly after: string;
  /**
   * Applies without a restart: most keys do; host, port, the request timeouts and metricsPort
   * belong to listening servers, so only a change back to what they run with does.
   */
  readonly live: boolean;
}

export interface ConfigChanges {
  readonly added: readonly ResolvedFunction[];
  readonly removed: readonly ResolvedFunction[];
  readonly changed: readonly FunctionChange[];
  readonly server: readonly ServerChange[];
  /** `+thumb, ~sort maxThreads 2->4, -old`, or `no changes`. */
  readonly summary: string;
}

/**
 * What differs between two resolved configs, and a one-line summary for the terminal. `running`
 * is what the listening server was started with (host, port, socket timeouts), when it differs
 * from `before`: a value changed back to it needs no restart.
 */
export function diffConfig(before: ResolvedConfig, after: ResolvedConfig, running: ResolvedServer = before.server): ConfigChanges {
  const added = Object.values(after.functions).filter((fn) => !(fn.name in before.functions));
  const removed = Object.values(before.functions).filter((fn) => !(fn.name in after.functions));
  const changed: FunctionChange[] = [];
  for (const next of Object.values(after.functions)) {
    const previous = before.functions[next.name];
    if (previous === undefined) continue;
    const change = diffFunction(previous, next, after.root);
    if (change.details.length > 0) changed.push(change);
  }

  const server: ServerChange[] = [];
  const s0 = before.server;
  const s1 = after.server;
  if (s0.host !== s1.host) server.push({ key: 'host', before: s0.host, after: s1.host, live: s1.host === running.host });
  if (s0.port !== s1.port) server.push({ key: 'port', before: String(s0.port), after: String(s1.port), live: s1.port === running.port });
  for (const key of ['bodyLimit', 'sendBufferLimit'] as const) {
    if (s0[key] !== s1[key]) server.push({ key, before: formatSize(s0[key]), after: formatSize(s1[key]), live: true });
  }
  for (const key of ['shutdownTimeout', 'drainDelay', 'headersTimeout', 'requestTimeout', 'sendTimeout'] as const) {
    if (s0[key] !== s1[key]) {
      // The request timeouts belong to the listening server; shutdownTimeout and drainDelay are
      // read at shutdown, sendTimeout at every check of the connections being sent to.
      const anyTime = key === 'shutdownTimeout' || key === 'drainDelay' || key === 'sendTimeout';
      server.push({ key, before: formatDuration(s0[key]), after: formatDuration(s1[key]), live: anyTime || s1[key] === running[key] });
    }
  }
  if (s0.metricsPort !== s1.metricsPort) {
    const shown = (port: number | null) => (port === null ? 'off' : String(port));
    server.push({ key: 'metricsPort', before: shown(s0.metricsPort), after: shown(s1.metricsPort), live: s1.metricsPort === running.metricsPort });
  }

  const hosts0 = describeHosts(s0.allowedHosts);
  const hosts1 = describeHosts(s1.allowedHosts);
  // The gateway, which checks the Host header, is rebuilt with every applied config.
  if (hosts0 !== hosts1) server.push({ key: 'allowedHosts', before: hosts0, after: hosts1, live: true });

  if (describeAdmin(s0.admin) !== describeAdmin(s1.admin) || tokenOf(s0.admin) !== tokenOf(s1.admin)) {
    // The gateway is rebuilt with every applied config, endpoints included.
    const after = describeAdmin(s1.admin);
    server.push({ key: 'admin', before: describeAdmin(s0.admin), after: after === describeAdmin(s0.admin) ? 'new token' : after, live: true });
  }

  const parts = [
    ...added.map((fn) => `+${fn.name}`),
    ...changed.map((c) => `~${c.after.name} ${c.details.join(' ')}`),
    ...removed.map((fn) => `-${fn.name}`),
    ...server.map((c) => `server.${c.key} ${c.before}->${c.after}${c.live ? '' : ' (restart needed)'}`),
  ];
  return { added, removed, changed, server, summary: parts.length > 0 ? parts.join(', ') : 'no changes' };
}

function diffFunction(before: ResolvedFunction, after: ResolvedFunction, root: string): FunctionChange {
  const details: string[] = [];
  let needsNewVersion = false;
  if (before.file !== after.file) {
    details.push(`file ${relative(root, before.file)}->${relative(root, after.file)}`);
    needsNewVersion = true;
  }
  for (const key of POOL_KEYS) {
    if (before[key] !== after[key]) {
      const show = (value: number | string) =>
        typeof value === 'string' ? value
        : key === 'memoryLimit' || key === 'sharedMemory' ? formatSize(value)
        : key === 'idleTimeout' || key === 'timeout' ? formatDuration(value)
        : String(value);
      details.push(`${key} ${show(before[key])}->${show(after[key])}`);
      needsNewVersion = true;
    }
  }
  // The bundle is built with it: a new builder, so a new version.
  const external = (value: ResolvedFunction['external']) => (value === 'all' ? 'all' : `[${value.join(', ')}]`);
  if (external(before.external) !== external(after.external)) {
    details.push(`external ${external(before.external)}->${external(after.external)}`);
    needsNewVersion = true;
  }
  // Names only: env values may be secrets.
  const envChanges = [
    ...Object.keys(after.env).filter((k) => !(k in before.env)).map((k) => `+${k}`),
    ...Object.keys(after.env).filter((k) => k in before.env && before.env[k] !== after.env[k]).map((k) => `~${k}`),
    ...Object.keys(before.env).filter((k) => !(k in after.env)).map((k) => `-${k}`),
  ];
  if (envChanges.length > 0) {
    details.push(`env ${envChanges.join(' ')}`);
    needsNewVersion = true;
  }
  // The scheduler follows it; the pool does not care.
  const schedule = (value: ResolvedFunction['schedule']) => (value === null ? 'none' : `"${value.cron}"${value.timezone === 'UTC' ? '' : ` ${value.timezone}`}`);
  if (schedule(before.schedule) !== schedule(after.schedule)) details.push(`schedule ${schedule(before.schedule)}->${schedule(after.schedule)}`);
  const routesBefore = before.routes.map((r) => r.source).join(', ');
  const routesAfter = after.routes.map((r) => r.source).join(', ');
  if (routesBefore !== routesAfter) details.push(`routes [${routesAfter}]`);
  return { before, after, needsNewVersion, details };
}

function describeHosts(hosts: ResolvedServer['allowedHosts']): string {
  return hosts === true ? 'any' : `[${hosts.join(', ')}]`;
}

/** Never prints a token, only whether there is one. */
function describeAdmin(admin: ResolvedServer['admin']): string {
  if (admin === undefined) return 'default';
  if (admin === false) return 'off';
  return admin.token === null ? 'on' : 'token';
}

function tokenOf(admin: ResolvedServer['admin']): string | null {
  return admin === undefined || admin === false ? null : admin.token;
}
