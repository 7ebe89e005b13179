import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../common/logger.js';
import type { ResolvedConfig, ResolvedFunction } from '../config/resolve-config.js';
import { createRuntime, type Runtime } from '../create-runtime.js';
import type { FunctionStatus } from '../observe/status-report.js';
import type { StepFigures, StepSettings } from '../tuning/ladder.js';
import type { LoadGenerator, LoadOptions, LoadResult } from '../tuning/load-generator.js';
import { onlyFunction, type FunctionRequest } from './one-function.js';

export interface StepOptions {
  readonly config: ResolvedConfig;
  readonly fn: ResolvedFunction;
  readonly request: FunctionRequest;
  readonly settings: StepSettings;
  readonly load: LoadGenerator;
  /** Measured seconds, after `warmupSeconds` of the same load that are not. */
  readonly seconds: number;
  readonly warmupSeconds: number;
  /** Send the request once first and give up unless it gets a 2xx (the first step does). */
  readonly probe: boolean;
  readonly logger: Logger;
}

/** One step: its figures, or why it gives none. */
export type StepOutcome =
  | { readonly figures: StepFigures; readonly connections: number }
  /** The function does not serve (build or load failure). */
  | { readonly unavailable: string }
  /** The one probe request did not get a 2xx: tune needs a request the function answers. */
  | { readonly refused: string }
  /** Requests failed under load: the ladder stops here. */
  | { readonly failures: string; readonly connections: number };

/** Requests each thread slot gets at once: one running, one waiting, so no slot ever idles. */
const CONNECTIONS_PER_SLOT = 2;

/**
 * Serves the function alone with the step's settings (minThreads = maxThreads, so no thread
 * starts during the measurement), warms it with the same load, then measures: autocannon's
 * req/s and latencies, and from the runtime's own status the threads' busy time and run time
 * per answered request and the biggest heap a thread reported; plus how busy the machine's
 * cores, the gateway thread and the load generator's thread were.
 */
export async function runStep(options: StepOptions): Promise<StepOutcome> {
  const { fn, settings } = options;
  const slots = settings.threads * (settings.concurrency === 'auto' ? 16 : settings.concurrency);
  const connections = Math.max(2, slots * CONNECTIONS_PER_SLOT);
  const stepFn: ResolvedFunction = {
    ...fn,
    minThreads: settings.threads,
    maxThreads: settings.threads,
    concurrency: settings.concurrency,
    // Every connection's request may wait: a full queue would answer 503 for the load's sake.
    maxQueue: Math.max(fn.maxQueue, connections),
  };
  const runtime = await createRuntime({
    config: onlyFunction(options.config, stepFn),
    host: '127.0.0.1',
    port: 0,
    mode: 'start',
    logRequests: false,
    logger: options.logger,
  });
  try {
    await runtime.warmed();
    const problem = runtime.functions()[0]?.problem;
    if (problem !== undefined) return { unavailable: problem };
    if (options.probe) {
      const refused = await probe(runtime, options.request);
      if (refused !== null) return { refused };
    }
    const load: Omit<LoadOptions, 'seconds'> = {
      url: `${runtime.url}${options.request.path}`,
      method: options.request.method,
      headers: headerRecord(options.request.headers),
      body: options.request.body,
      connections,
      // fngate answers 504 at the function's timeout: the client waits a little longer for it.
      timeoutSeconds: Math.ceil(fn.timeout / 1000) + 5,
    };
    const warm = await options.load.run({ ...load, seconds: options.warmupSeconds });
    const before = snapshot(runtime);
    const measured = await options.load.run({ ...load, seconds: options.seconds });
    const after = snapshot(runtime);
    const failures = describeFailures([warm, measured], after.status);
    if (failures !== null) return { failures, connections };
    const answered = after.status.requests.completed - before.status.requests.completed;
    return {
      connections,
      figures: {
        ...settings,
        requestsPerSecond: measured.answered / measured.seconds,
        p50Ms: measured.p50Ms,
        p99Ms: measured.p99Ms,
        cpuMsPerRequest: answered === 0 ? 0 : (after.status.usage.cpuMs - before.status.usage.cpuMs) / answered,
        runMsPerRequest: answered === 0 ? 0 : (after.status.usage.runMs - before.status.usage.runMs) / answered,
        peakHeapBytes: after.status.usage.lastMinutes?.peakHeapBytes ?? null,
        machineBusy: machineBusy(before.cores, after.cores),
        gatewayBusy: performance.eventLoopUtilization(after.gateway, before.gateway).utilization,
        loadBusy: measured.busy,
      },
    };
  } finally {
    await runtime.close();
  }
}

/** The one request, sent once: null when it got a 2xx, else what came back. */
async function probe(runtime: Runtime, request: FunctionRequest): Promise<string | null> {
  const response = await fetch(`${runtime.url}${request.path}`, {
    method: request.method,
    headers: Object.entries(headerRecord(request.headers)),
    ...(request.body !== null && { body: request.body }),
  });
  const text = await response.text();
  if (response.ok) return null;
  const shown = text.length > 300 ? `${text.slice(0, 300)}...` : text;
  return `${request.method} ${request.path} answered ${response.status}${shown === '' ? '' : `: ${shown.trim()}`}`;
}

/** Header pairs as one record; a repeated header's values joined with `, ` (as HTTP allows). */
function headerRecord(pairs: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i < pairs.length; i += 2) headers[pairs[i]!] = headers[pairs[i]!] === undefined ? pairs[i + 1]! : `${headers[pairs[i]!]}, ${pairs[i + 1]}`;
  return headers;
}

interface Snapshot {
  readonly status: FunctionStatus;
  readonly cores: ReturnType<typeof cpus>;
  readonly gateway: ReturnType<typeof performance.eventLoopUtilization>;
}

function snapshot(runtime: Runtime): Snapshot {
  return { status: runtime.status().functions[0]!, cores: cpus(), gateway: performance.eventLoopUtilization() };
}

/** Share of all the cores' time that was not idle between two os.cpus() readings (every process counts). */
function machineBusy(before: ReturnType<typeof cpus>, after: ReturnType<typeof cpus>): number {
  let total = 0;
  let idle = 0;
  after.forEach((core, i) => {
    const was = before[i];
    if (was === undefined) return;
    const { user, nice, sys, irq, idle: idleNow } = core.times;
    total += user + nice + sys + irq + idleNow - (was.times.user + was.times.nice + was.times.sys + was.times.irq + was.times.idle);
    idle += idleNow - was.times.idle;
  });
  return total > 0 ? Math.min(1, Math.max(0, 1 - idle / total)) : 0;
}

/**
 * Every request of the step (warm-up included) that did not get a 2xx, by status, with
 * fngate's error codes for them; null when there were none. Nothing is averaged away.
 */
function describeFailures(runs: readonly LoadResult[], status: FunctionStatus): string | null {
  const statuses = new Map<string, number>();
  let total = 0;
  let errors = 0;
  let timeouts = 0;
  for (const run of runs) {
    total += run.answered + run.errors;
    errors += run.errors - run.timeouts;
    timeouts += run.timeouts;
    for (const [code, count] of Object.entries(run.statuses)) {
      if (code.startsWith('2')) continue;
      statuses.set(code, (statuses.get(code) ?? 0) + count);
    }
  }
  const parts = [...statuses].sort((a, b) => b[1] - a[1]).map(([code, count]) => `${count} x ${code}`);
  if (timeouts > 0) parts.push(`${timeouts} x no answer within the client's timeout`);
  if (errors > 0) parts.push(`${errors} x connection error`);
  if (parts.length === 0) return null;
  const failed = [...statuses.values()].reduce((sum, n) => sum + n, 0) + errors + timeouts;
  // The load generator leaves at the end of each run with requests in flight: not the function's failures.
  const theirs = (code: string) => code !== 'FNGATE_CLIENT_CLOSED';
  const codes = Object.entries(status.requests.failed)
    .filter(([code]) => theirs(code))
    .map(([code, count]) => `${code} x ${count}`);
  const last = status.lastErrors.find((error) => theirs(error.code));
  return (
    `${failed} of ${total} requests failed (${parts.join(', ')})` +
    (codes.length > 0 ? `; fngate: ${codes.join(', ')}` : '') +
    (last === undefined ? '' : `; last: ${last.message}`)
  );
}
