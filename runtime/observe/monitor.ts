import { availableParallelism } from 'node:os';
import { relative } from 'node:path';
import type { FunctionStatus, ScheduleStatus, StatusReport } from './status-report.js';
import type { ScheduleState } from '../schedule/scheduler.js';
import type { ResolvedConfig } from '../config/resolve-config.js';
import type { FngateError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { Reply, type TaskReply } from '../protocol/reply.js';
import type { DeployResult, FunctionRegistry } from '../registry/function-registry.js';
import { FunctionStats } from './function-stats.js';
import type { FunctionSeries, PoolGauges, PrometheusMetrics } from './prometheus.js';
import { RequestLog } from './request-log.js';
import { recommendFromTraffic } from '../tuning/recommend-from-traffic.js';

/** What the gateway reports for each request of one function; bound once per route table. */
export interface RequestRecorder {
  answered(method: string, target: string, reply: TaskReply): void;
  failed(method: string, target: string, error: FngateError, totalMs: number): void;
}

export interface MonitorOptions {
  readonly mode: 'dev' | 'start';
  readonly version: string;
  readonly registry: FunctionRegistry;
  readonly config: () => ResolvedConfig;
  /** Print a line per request. */
  readonly logRequests: boolean;
  /** A function's schedule and its runs, when it has one. */
  readonly schedule?: (fn: string) => ScheduleState | undefined;
  readonly logger: Logger;
}

/** How often thread utilization is sampled while the admin endpoints are on. */
const SAMPLE_MS = 1000;

/**
 * Everything fngate knows about what its pools do: per-function counters and latencies (for
 * the status JSON and the dashboard), Prometheus metrics, and the request log. The gateway
 * reports each answer through a RequestRecorder; the registry reports deploys.
 */
export class Monitor {
  readonly #options: MonitorOptions;
  readonly #stats = new Map<string, FunctionStats>();
  readonly #series = new Map<string, FunctionSeries>();
  readonly #utilization = new Map<string, number>();
  readonly #log: RequestLog | undefined;
  #metrics: PrometheusMetrics | undefined;
  /** prom-client is loaded only once the admin endpoints are on: `fngate start` never pays for it. */
  #loading: Promise<PrometheusMetrics> | undefined;
  #sampler: NodeJS.Timeout | undefined;

  constructor(options: MonitorOptions) {
    this.#options = options;
    this.#log = options.logRequests ? new RequestLog(options.logger) : undefined;
  }

  /**
   * Turns on what only the admin endpoints and the metrics port need: Prometheus recording
   * (about 0.8 µs per request) and utilization sampling. Counters for status are always kept: they cost a few nanoseconds.
   */
  enableMetrics(): void {
    if (this.#loading !== undefined) return;
    this.#loading = import('./prometheus.js').then(({ PrometheusMetrics }) => {
      this.#metrics = new PrometheusMetrics(() => this.#gauges());
      return this.#metrics;
    });
    this.#sampler = setInterval(() => this.#sample(), SAMPLE_MS);
    this.#sampler.unref();
    this.#sample();
  }

  /** The Prometheus exposition; the admin endpoints must be on. */
  async renderMetrics(): Promise<{ contentType: string; body: string }> {
    if (this.#loading === undefined) throw new Error('metrics are off (no admin endpoints, no metricsPort)');
    const metrics = await this.#loading;
    return { contentType: metrics.contentType, body: await metrics.render() };
  }

  stats(fn: string): FunctionStats {
    let stats = this.#stats.get(fn);
    if (stats === undefined) {
      stats = new FunctionStats();
      this.#stats.set(fn, stats);
    }
    return stats;
  }

  /** A request the gateway answered itself, without a function (404, 405, 400). */
  unrouted(method: string, target: string, error: FngateError): void {
    this.#log?.unrouted(method, target, error.status, error.code);
  }

  recorder(fn: string): RequestRecorder {
    const stats = this.stats(fn);
    const log = this.#log;
    // Bound on first use once prom-client has loaded (it loads when the admin endpoints turn on).
    let series = this.#seriesOf(fn);
    const seriesNow = () => (series ??= this.#seriesOf(fn));
    return {
      answered(method, target, reply) {
        const status = reply[Reply.status];
        const queueMs = reply[Reply.queueMs];
        const runMs = reply[Reply.runMs];
        stats.answered(status, queueMs, runMs, reply[Reply.cpuMs], reply[Reply.heapBytes]);
        (series ?? seriesNow())?.answered(status, queueMs, runMs);
        log?.answered(method, target, fn, status, queueMs, runMs);
      },
      failed(method, target, error, totalMs) {
        stats.failed(error.code, error.status, error.message, totalMs);
        (series ?? seriesNow())?.failed(error.code, error.status, totalMs);
        log?.failed(method, target, fn, error.status, error.code, totalMs);
      },
    };
  }

  /** A scheduled run finished, or a due time was skipped. */
  scheduled(fn: string, result: 'ok' | 'error' | 'skipped', ms: number): void {
    this.#seriesOf(fn)?.scheduled(result, ms);
  }

  /** A deploy after the first one finished (hot reload, config change). */
  reloaded(fn: string, result: DeployResult): void {
    const record = result.ok
      ? { ok: true, ms: result.ms, version: result.version, error: null }
      : { ok: false, ms: result.ms, version: null, error: result.error.message };
    this.stats(fn).reloaded(record);
    this.#seriesOf(fn)?.reloaded(record.ok, record.ms);
  }

  status(): StatusReport {
    const config = this.#options.config();
    const memory = process.memoryUsage.rss();
    const cpus = availableParallelism();
    return {
      fngate: {
        version: this.#options.version,
        mode: this.#options.mode,
        pid: process.pid,
        uptimeSeconds: Math.round(process.uptime()),
        rssBytes: memory,
        cpus,
        now: new Date().toISOString(),
      },
      functions: Object.values(config.functions).map((fn): FunctionStatus => {
        const live = this.#options.registry.liveState(fn.name);
        const stats = this.stats(fn.name);
        const lastMinutes = stats.usage();
        return {
          name: fn.name,
          file: relative(config.root, fn.file),
          routes: fn.routes.map((route) => route.source),
          state: live.state,
          problem: live.problem,
          version: live.version,
          builtAt: live.builtAt?.toISOString() ?? null,
          buildMs: live.readyMs,
          fromCache: live.fromCache,
          threads: { min: fn.minThreads, max: fn.maxThreads, alive: live.threads, busy: live.busyThreads },
          concurrency: fn.concurrency,
          running: live.running,
          queue: { length: live.queued, max: fn.maxQueue },
          utilization: round3(this.#utilization.get(fn.name) ?? 0),
          requests: {
            completed: stats.completed,
            failed: Object.fromEntries(stats.failures),
            byStatus: stats.byStatus(),
            perSecond: stats.perSecond(),
          },
          latency: { queue: stats.queuePercentiles(), run: stats.runPercentiles(), total: stats.totalPercentiles() },
          usage: { cpuMs: round3(stats.cpuMs), runMs: round3(stats.runMs), lastMinutes },
          recommendation: lastMinutes === null ? null : recommendFromTraffic(lastMinutes, { name: fn.name, cores: cpus, current: fn }),
          lastErrors: [...stats.lastErrors],
          schedule: scheduleStatus(this.#options.schedule?.(fn.name)),
          reloads: stats.reloads,
          lastReload: stats.lastReload,
        };
      }),
    };
  }

  /** Writes buffered log lines and stops sampling. */
  close(): void {
    clearInterval(this.#sampler);
    this.#log?.flush();
  }

  #seriesOf(fn: string): FunctionSeries | undefined {
    if (this.#metrics === undefined) return undefined;
    let series = this.#series.get(fn);
    if (series === undefined) {
      series = this.#metrics.series(fn);
      this.#series.set(fn, series);
    }
    return series;
  }

  #sample(): void {
    for (const name of Object.keys(this.#options.config().functions)) {
      this.#utilization.set(name, this.#options.registry.sampleUtilization(name));
    }
  }

  #gauges(): PoolGauges[] {
    return Object.values(this.#options.config().functions).map((fn) => {
      const live = this.#options.registry.liveState(fn.name);
      return {
        name: fn.name,
        threads: live.threads,
        busy: live.busyThreads,
        maxThreads: fn.maxThreads,
        running: live.running,
        queued: live.queued,
        maxQueue: fn.maxQueue,
        capacity: fn.maxThreads * Math.max(1, live.perThread),
        utilization: this.#utilization.get(fn.name) ?? 0,
        nextRun: this.#options.schedule?.(fn.name)?.nextRun ?? null,
      };
    });
  }
}

function scheduleStatus(state: ScheduleState | undefined): ScheduleStatus | null {
  if (state === undefined) return null;
  const last = state.lastRun;
  return {
    cron: state.cron,
    timezone: state.timezone,
    nextRun: state.nextRun?.toISOString() ?? null,
    runningSince: state.runningSince?.toISOString() ?? null,
    runs: state.runs,
    failures: state.failures,
    skipped: state.skipped,
    lastRun:
      last === null
        ? null
        : { at: new Date(last.scheduledTime).toISOString(), ok: last.failure === null, ms: last.ms, error: last.failure === null ? null : `${last.failure.code}: ${last.failure.message}`, manual: last.manual },
  };
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
