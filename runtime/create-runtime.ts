import { rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { AdminEndpoints } from './gateway/admin-routes.js';
import type { StatusReport } from './observe/status-report.js';
import { forDebugging } from './config/debug-config.js';
import { envFileNames, loadEnvFiles, withEnvFiles } from './config/env-files.js';
import { loadConfig } from './config/load-config.js';
import { groupsOf, withGroup, withoutForwarded } from './config/deploy-groups.js';
import type { ResolvedConfig } from './config/resolve-config.js';
import { createGateway, gatewayRoutes } from './gateway/create-gateway.js';
import { createHostCheck } from './gateway/host-check.js';
import { startHttpServer, type HttpServer } from './gateway/http-server.js';
import { consoleLogger, type Logger } from './common/logger.js';
import { startMetricsServer, type MetricsServer } from './observe/metrics-server.js';
import { Monitor } from './observe/monitor.js';
import { createBundleDir } from './bundle/bundle-dir.js';
import { createPrebuiltSources } from './bundle/prebuilt-sources.js';
import { formatDuration } from './config/units.js';
import { FunctionRegistry } from './registry/function-registry.js';
import { Scheduler, type ScheduledRun } from './schedule/scheduler.js';
import { fngateVersion } from './common/runtime-files.js';

export interface RuntimeOptions {
  /**
   * The config file (relative to `cwd`), or a config already loaded with loadConfig().
   * @default "config.yaml"
   */
  readonly config?: string | ResolvedConfig;
  /** Directory a relative `config` path is resolved against. @default process.cwd() */
  readonly cwd?: string;
  /** Overrides `server.port`; 0 picks a free port. */
  readonly port?: number;
  /** Overrides `server.host`. */
  readonly host?: string;
  /**
   * Watch config.yaml and every file the functions include, and hot-reload on change: a
   * rebuilt function is warmed, then swapped in without dropping a request. @default false
   */
  readonly watch?: boolean;
  /**
   * `dev`: error bodies include stacks, NODE_ENV=development in functions.
   * `start`: no stacks, NODE_ENV=production.
   * @default "dev" when watching, else "start"
   */
  readonly mode?: 'dev' | 'start';
  /** @default logs to stdout/stderr */
  readonly logger?: Logger;
  /** A line per request (method, path, status, function, queue and run time). @default true in dev */
  readonly logRequests?: boolean;
  /**
   * Serve for a debugger (`fngate dev --inspect`): every function on one thread, one request at
   * a time, with an hour-long timeout, so a paused breakpoint is neither moved nor killed.
   * Opening the inspector itself is the caller's job (node:inspector). @default false
   */
  readonly debug?: boolean;
  /**
   * For `fngate invoke`: each function's console output goes to stderr (stdout carries a
   * response body) and a last partial line is written when its request ends. @default false
   */
  readonly invoke?: boolean;
  /**
   * Serve `fngate build`'s output: each function's `file` is its prebuilt bundle, loaded as it is
   * (no esbuild, no build cache, nothing written). @default false
   */
  readonly prebuilt?: boolean;
  /**
   * Serve only the functions of this deployment group (`deploy.group`): what each group's
   * Deployment runs (`fngate start --only GROUP`).
   */
  readonly only?: string;
  /**
   * Deployment group -> base URL of its server: this gateway forwards those functions' routes
   * there instead of running them (`fngate start --forward GROUP=URL`). Not with `watch`.
   */
  readonly forward?: Readonly<Record<string, string>>;
  /**
   * Run functions on their config.yaml `schedule` by the clock. Off where something else keeps
   * the time: the replicas of a cluster deployment (a CronJob triggers each run), `fngate invoke`
   * and `fngate trigger`; trigger() still runs them. @default true
   */
  readonly schedules?: boolean;
}

/** RuntimeOptions that do not fit the config (an --only group no function is in). */
export class RuntimeOptionError extends Error {
  override readonly name = 'RuntimeOptionError';
}

/** A function as the runtime sees it right now. */
export interface FunctionState {
  readonly name: string;
  readonly routes: readonly string[];
  readonly minThreads: number;
  readonly maxThreads: number;
  readonly maxQueue: number;
  readonly timeout: number;
  /** The serving version; undefined when the function has no good build. */
  readonly version: number | undefined;
  /** Why it is not serving (build or load error), when it is not. */
  readonly problem: string | undefined;
  /** Requests on a thread of the serving version. */
  readonly running: number;
  /** Requests waiting for a thread of the serving version. */
  readonly queued: number;
  /** Live threads of the serving version. */
  readonly threads: number;
  /** The serving version's bundle was reused from `.fngate/cache` instead of being rebuilt. */
  readonly fromCache: boolean;
  /** Its schedule and when it is due next, or undefined without one (or with schedules off). */
  readonly schedule: { readonly cron: string; readonly timezone: string; readonly nextRun: Date | null } | undefined;
}

export interface Runtime {
  /** `http://HOST:PORT` the gateway listens on. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly mode: 'dev' | 'start';
  /** The config being served (with `watch`, the latest valid config.yaml). */
  readonly config: ResolvedConfig;
  functions(): FunctionState[];
  /** Files watched for hot reload (0 without `watch`). */
  watchedFiles(): number;
  /** Resolves when the reloads already triggered by file changes have finished. */
  reloadsSettled(): Promise<void>;
  /**
   * Resolves when every function has finished starting (its first threads loaded, or its
   * first deploy failed). The server listens before that: a request for a function still
   * starting waits for it, and /_fngate/ready answers 503 until then.
   */
  warmed(): Promise<void>;
  /** Functions still starting. */
  starting(): string[];
  /** The live dashboard's URL, when the /_fngate/ endpoints are on (without the token). */
  readonly dashboardUrl: string | undefined;
  /** The /_fngate/ endpoints: off, on for anyone who can connect, or behind `server.admin.token`. */
  readonly admin: 'off' | 'open' | 'token';
  /** What GET /_fngate/status serves (also when the admin endpoints are off). */
  status(): StatusReport;
  /**
   * Runs a scheduled function now, as its schedule would (`fngate trigger`), and resolves when the
   * run is over. Throws FngateError FNGATE_NOT_FOUND for a function without a schedule and
   * FNGATE_ALREADY_RUNNING while its previous run is going.
   */
  trigger(name: string): Promise<ScheduledRun>;
  /**
   * Turns /_fngate/ready to 503 and keeps serving for `server.drainDelay`, then stops accepting
   * connections, lets in-flight requests finish (up to `server.shutdownTimeout`), destroys every
   * pool and removes the bundles. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Loads the config, builds and warms every function, and starts the gateway. Functions that
 * fail to build or load do not stop the server: their routes answer 503 FNGATE_UNAVAILABLE.
 * Throws ConfigError for an invalid config and PortInUseError when the port is taken.
 */
export async function createRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const cwd = options.cwd ?? process.cwd();
  const logger = options.logger ?? consoleLogger;
  const mode = options.mode ?? (options.watch ? 'dev' : 'start');
  const adjust = options.debug ? forDebugging : (loaded: ResolvedConfig) => loaded;
  // A config file is read with its .env files; a config given as an object was read by the caller.
  const configFile = typeof options.config === 'object' ? undefined : resolve(cwd, options.config ?? 'config.yaml');
  const readConfig = (file: string) => loadConfig(file, { cwd, env: withEnvFiles(process.env, loadEnvFiles(dirname(file), mode, cwd)) });
  const loaded = adjust(typeof options.config === 'object' ? options.config : readConfig(configFile!));
  const forward = options.forward ?? {};
  if (options.watch && (options.only !== undefined || Object.keys(forward).length > 0)) {
    throw new RuntimeOptionError('--only and --forward split a deployment: they are for fngate start, not dev');
  }
  const served = options.only === undefined ? loaded : onlyGroup(loaded, options.only);
  checkGroups(served, forward);
  // What runs in this process; forwarded functions only have routes here.
  const config = withoutForwarded(served, forward);

  // Prebuilt bundles (fngate build's output) need neither esbuild nor a bundle directory: the
  // built server writes nothing.
  const outDir = options.prebuilt ? undefined : await createBundleDir(config.root);
  const sources =
    outDir === undefined ? createPrebuiltSources() : (await import('./bundle/builder-sources.js')).createBuilderSources({ root: config.root, outDir });
  let current = config;
  const registry = new FunctionRegistry({
    root: config.root,
    sources,
    nodeEnv: process.env.NODE_ENV ?? (mode === 'dev' ? 'development' : 'production'),
    logger,
    invoke: options.invoke ?? false,
    // Not under --inspect: a standby thread would be one more debugger target.
    standby: options.watch === true && options.debug !== true,
    // Called only for reloads, after `monitor` exists.
    onReload: (name, result) => monitor.reloaded(name, result),
  });
  const scheduler = new Scheduler({
    invoke: (name, envelope) => registry.invoke(name, envelope),
    logger,
    logRuns: options.logRequests ?? mode === 'dev',
    onRun: (name, result, ms) => monitor.scheduled(name, result, ms),
    clock: options.schedules !== false,
  });
  const monitor = new Monitor({
    mode,
    version: fngateVersion(),
    registry,
    config: () => current,
    logRequests: options.logRequests ?? mode === 'dev',
    logger,
    schedule: (name) => scheduler.state(name),
  });

  const adminOf = (served: ResolvedConfig) => served.server.admin ?? (mode === 'dev' ? { token: null } : false);
  const adminFor = (served: ResolvedConfig): AdminEndpoints | null => {
    const admin = adminOf(served);
    if (admin === false) return null;
    monitor.enableMetrics();
    return {
      token: admin.token,
      status: () => monitor.status(),
      metrics: () => monitor.renderMetrics(),
      trigger: async (name) => {
        const run = await scheduler.trigger(name);
        return run.failure === null ? { ok: true, ms: run.ms, scheduledTime: run.scheduledTime } : { ok: false, error: run.failure };
      },
    };
  };
  const listenHost = options.host ?? config.server.host;
  // The address the server is bound to, once it is (a name like localhost resolves then).
  let boundAddress: string | undefined;
  const gatewayFor = (served: ResolvedConfig) =>
    createGateway({
      routes: gatewayRoutes(served, forward),
      bodyLimit: served.server.bodyLimit,
      sendTimeout: served.server.sendTimeout,
      sendBufferLimit: served.server.sendBufferLimit,
      exposeStacks: mode === 'dev',
      invoke: (fn, envelope, sink) => registry.invoke(fn, envelope, sink),
      recorder: (fn) => monitor.recorder(fn),
      unrouted: (method, target, error) => monitor.unrouted(method, target, error),
      admin: adminFor(served),
      readiness: () => {
        if (draining) return { state: 'draining', warming: [] };
        const warming = startingNow();
        return { state: warming.length > 0 ? 'starting' : 'ready', warming };
      },
      hostAllowed: hostCheckFor(served),
    });
  // Built lazily: the first gateway exists before the server listens.
  const hostCheckFor = (served: ResolvedConfig) => {
    let check: ReturnType<typeof createHostCheck> | undefined;
    return (host: string | undefined) => (check ??= createHostCheck(served.server.allowedHosts, boundAddress ?? listenHost)) === null || check(host);
  };

  /** SIGTERM (close()) was received: /_fngate/ready answers 503 from then on. */
  let draining = false;
  let warmed: Promise<void> = Promise.resolve();
  const startingNow = () => Object.keys(current.functions).filter((name) => registry.liveState(name).state === 'starting');
  let server: HttpServer | undefined;
  let metricsServer: MetricsServer | undefined;
  let reloader: import('./watch/hot-reload.js').HotReloader | undefined;
  try {
    // Listen once every function is built (or found in the build cache); their threads start
    // in the background, a few at a time, those that requests wait for first.
    const startup = registry.start(Object.values(config.functions));
    await startup.built;
    warmed = startup.deployed.then(() => {});
    const started = await startHttpServer({
      host: listenHost,
      port: options.port ?? config.server.port,
      gateway: gatewayFor(served),
      headersTimeout: config.server.headersTimeout,
      requestTimeout: config.server.requestTimeout,
      onWriteFailure: ({ fn, error, sent }) =>
        logger.error(
          `✘ ${fn === undefined ? 'a response' : `[${fn}] its response`} could not be sent as it was: ${error.message}; ` +
            (sent === null ? 'its headers were out, so the connection was closed' : `answered ${sent.status} ${sent.code} instead`),
        ),
      onSendClosed: ({ reason, fn, request, held, stalledMs }) =>
        logger.warn(
          `✘ closed the connection of ${request}${fn === undefined ? '' : ` (${fn})`}: its client took none of the response for ${formatDuration(Math.round(stalledMs))}, ` +
            `which held ${(held / 2 ** 20).toFixed(1)} MB (${reason === 'timeout' ? 'server.sendTimeout' : 'server.sendBufferLimit: clients that stopped reading held more'})`,
        ),
    });
    server = started;
    boundAddress = started.host;
    scheduler.update(Object.values(config.functions));
    if (config.server.metricsPort !== null) {
      monitor.enableMetrics();
      metricsServer = await startMetricsServer(started.host, config.server.metricsPort, () => monitor.renderMetrics());
    }
    if (options.watch) {
      // Loaded only to watch: `fngate start` never pays for chokidar.
      const { HotReloader } = await import('./watch/hot-reload.js');
      reloader = await HotReloader.start({
        configFile: config.file,
        envFiles: envFileNames(mode).map((name) => join(config.root, name)),
        readConfig: () => readConfig(config.file),
        registry,
        logger,
        currentConfig: () => current,
        adjustConfig: adjust,
        applyConfig: (next) => {
          current = next;
          started.use(gatewayFor(next));
          scheduler.update(Object.values(next.functions));
        },
      });
    }
  } catch (error) {
    scheduler.stop();
    monitor.close();
    await server?.close(0);
    await metricsServer?.close();
    await registry.close({ force: true });
    if (outDir !== undefined) await rm(outDir, { recursive: true, force: true });
    throw error;
  }
  const http = server;

  let closing: Promise<void> | undefined;
  return {
    url: http.url,
    host: http.host,
    port: http.port,
    mode,
    get config() {
      return current;
    },
    get dashboardUrl() {
      return adminOf(current) === false ? undefined : `${http.url}/_fngate/`;
    },
    get admin() {
      const admin = adminOf(current);
      return admin === false ? 'off' : admin.token === null ? 'open' : 'token';
    },
    watchedFiles: () => reloader?.watchedFiles ?? 0,
    reloadsSettled: () => reloader?.settled() ?? Promise.resolve(),
    warmed: () => warmed,
    starting: startingNow,
    status: () => monitor.status(),
    trigger: (name) => scheduler.trigger(name),
    functions: () =>
      Object.values(current.functions).map((fn) => {
        const live = registry.liveState(fn.name);
        return {
          name: fn.name,
          routes: fn.routes.map((r) => r.source),
          minThreads: fn.minThreads,
          maxThreads: fn.maxThreads,
          maxQueue: fn.maxQueue,
          timeout: fn.timeout,
          version: live.version ?? undefined,
          problem: live.problem ?? undefined,
          running: live.running,
          queued: live.queued,
          threads: live.threads,
          fromCache: live.fromCache,
          schedule: scheduler.state(fn.name),
        };
      }),
    close() {
      closing ??= (async () => {
        // Not ready any more, but still serving for drainDelay: a load balancer (or Kubernetes,
        // whose endpoint removal lags behind SIGTERM) stops sending requests here first. No
        // scheduled run starts from now on; one going on drains with the requests.
        draining = true;
        scheduler.stop();
        if (current.server.drainDelay > 0) await new Promise((resolve) => setTimeout(resolve, current.server.drainDelay));
        // Then stop accepting connections; the watcher closes while in-flight requests finish.
        const deadline = performance.now() + current.server.shutdownTimeout;
        const drained = http.close(current.server.shutdownTimeout);
        await reloader?.close();
        await drained;
        // Every connection is closed: what still runs is ctx.waitUntil() work, which gets the rest
        // of the grace period.
        await registry.close({ graceMs: Math.max(0, deadline - performance.now()) });
        await scheduler.settled();
        await metricsServer?.close();
        monitor.close();
        if (outDir !== undefined) await rm(outDir, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}

/** The config of one deployment group: its functions only. */
function onlyGroup(config: ResolvedConfig, group: string): ResolvedConfig {
  const served = withGroup(config, group);
  if (Object.keys(served.functions).length === 0) {
    throw new RuntimeOptionError(`--only ${group}: no function has deploy.group "${group}" (groups: ${groupsOf(config).join(', ') || 'none'})`);
  }
  return served;
}

function checkGroups(config: ResolvedConfig, forward: Readonly<Record<string, string>>): void {
  const unknown = Object.keys(forward).filter((group) => !groupsOf(config).includes(group));
  if (unknown.length > 0) throw new RuntimeOptionError(`--forward ${unknown[0]}: no function has deploy.group "${unknown[0]}" (groups: ${groupsOf(config).join(', ') || 'none'})`);
}
