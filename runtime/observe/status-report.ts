import type { Recommendation } from '../tuning/recommendation.js';
import type { TrafficFigures } from '../tuning/recommend-from-traffic.js';

/**
 * The JSON document served at `GET /_fngate/status`: what the pools are doing right now. The
 * dashboard (`/_fngate/`) renders it; scripts may read it. Times are milliseconds unless named
 * otherwise; timestamps are ISO 8601 strings.
 */
export interface StatusReport {
  readonly fngate: {
    readonly version: string;
    readonly mode: 'dev' | 'start';
    readonly pid: number;
    /** Seconds since the process started. */
    readonly uptimeSeconds: number;
    /** Resident set size of the whole process (gateway plus every worker thread), bytes. */
    readonly rssBytes: number;
    readonly cpus: number;
    /** ISO timestamp of this report. */
    readonly now: string;
  };
  /** In config order. */
  readonly functions: readonly FunctionStatus[];
}

/** Latency percentiles over the last 20 s (at most the last 8,192 requests); null without samples. */
export interface Percentiles {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Samples they were computed from. */
  readonly count: number;
}

export interface FunctionStatus {
  readonly name: string;
  /** The function module, relative to the project root. */
  readonly file: string;
  readonly routes: readonly string[];
  /**
   * `serving`; `starting`: its first version is loading at start-up (requests wait for it);
   * `unavailable`: no good build or it fails to load (see `problem`); `paused`: crash-loop back-off.
   */
  readonly state: 'serving' | 'starting' | 'unavailable' | 'paused';
  readonly problem: string | null;
  /** The serving version (1, 2, ... one per successful reload); null before the first good build. */
  readonly version: number | null;
  readonly builtAt: string | null;
  /** Build plus warm-up of the serving version. */
  readonly buildMs: number | null;
  readonly fromCache: boolean;
  readonly threads: {
    readonly min: number;
    readonly max: number;
    /** Live worker threads. */
    readonly alive: number;
    /** Threads running at least one request. */
    readonly busy: number;
  };
  /** Requests one thread runs at once: the configured number, or `auto`. */
  readonly concurrency: number | 'auto';
  /** Requests on threads now. */
  readonly running: number;
  readonly queue: { readonly length: number; readonly max: number };
  /**
   * Mean event-loop utilization of the live threads over the last second, 0..1: the share of
   * time they were busy running code. Near 1 with a queue means maxThreads is the limit.
   */
  readonly utilization: number;
  /** Since the process started (kept across reloads). */
  readonly requests: {
    /** Answered with the handler's own response, whatever its status. */
    readonly completed: number;
    /** fngate error code -> count (FNGATE_TIMEOUT, FNGATE_QUEUE_FULL, ...). */
    readonly failed: Readonly<Record<string, number>>;
    /** HTTP status -> count, for every request (499 = the client left). */
    readonly byStatus: Readonly<Record<string, number>>;
    /** Requests answered per second, averaged over the last 5 seconds. */
    readonly perSecond: number;
  };
  readonly latency: {
    /** Waiting for a thread. */
    readonly queue: Percentiles | null;
    /** On the thread: the handler and response normalization. */
    readonly run: Percentiles | null;
    /**
     * Queue wait plus run, failures included (a timeout counts with the time it took to give up;
     * refused-at-once and abandoned requests do not count): what clients waited.
     */
    readonly total: Percentiles | null;
  };
  /** What answered requests cost their threads. */
  readonly usage: {
    /** Thread busy time of every answered request since start, ms (a counter: divide its growth by `requests.completed`'s). */
    readonly cpuMs: number;
    /** Time on a thread, waits included, of every answered request since start, ms (a counter). */
    readonly runMs: number;
    /**
     * The last 5 minutes in 10-second slots: averages per request, the busiest 10 s, p99 (from
     * buckets about 19% wide) and the most V8 heap one thread reported (threads sample it after
     * their replies, at most every 10 ms). Null before any request.
     */
    readonly lastMinutes: TrafficFigures | null;
  };
  /**
   * maxThreads, concurrency, memoryLimit and timeout as the last minutes of traffic call for
   * them, with reasons and a YAML snippet; null until at least 100 requests were answered in
   * them. `fngate tune` measures the same under load.
   */
  readonly recommendation: Recommendation | null;
  /** Newest first, at most 5. */
  readonly lastErrors: readonly { readonly at: string; readonly code: string; readonly status: number; readonly message: string }[];
  /** Its cron schedule and how its runs went (since the process started), or null without one. */
  readonly schedule: ScheduleStatus | null;
  readonly reloads: number;
  readonly lastReload: {
    readonly at: string;
    readonly ok: boolean;
    readonly ms: number;
    /** The version it brought in (ok) or null (failed: the previous version kept serving). */
    readonly version: number | null;
    readonly error: string | null;
  } | null;
}

export interface ScheduleStatus {
  readonly cron: string;
  readonly timezone: string;
  /** ISO time it is due next; null when there is none (or shutdown began). */
  readonly nextRun: string | null;
  /** ISO time the run going on now started, or null. */
  readonly runningSince: string | null;
  /** Finished runs (scheduled and triggered), those that failed, and due times skipped because a run was still going. */
  readonly runs: number;
  readonly failures: number;
  readonly skipped: number;
  readonly lastRun: {
    /** ISO time it was due (a trigger: when it was asked for). */
    readonly at: string;
    readonly ok: boolean;
    /** Queue wait plus run. */
    readonly ms: number;
    readonly error: string | null;
    readonly manual: boolean;
  } | null;
}
