import type { ResolvedConfig, ResolvedFunction } from '../config/resolve-config.js';
import { formatSize } from '../config/units.js';
import { AUTO_CONCURRENCY } from '../pool/settings.js';

/** What the gateway process itself needs besides its threads' heaps (measured idle: about 70 MB). */
export const GATEWAY_MEMORY = 128 * 1024 ** 2;
/** Knative's default request timeout (its maximum is 600 s unless the cluster raises it). */
const KNATIVE_DEFAULT_TIMEOUT_S = 300;
/** More than a pod gets on most nodes. */
const LARGE_POD_MEMORY = 4 * 1024 ** 3;
const LARGE_POD_CPU = 8;

/** A replica's size, from the same config.yaml numbers that size the local pools. */
export interface Sizing {
  /** Requests a replica runs at once: Σ maxThreads × requests per thread (`auto`: up to 16). */
  readonly capacity: number;
  /** Cores a replica may use at once: Σ maxThreads (each thread can fill a core). */
  readonly cpu: number;
  /** Bytes: every thread's memoryLimit, a bodyLimit per thread in flight, and the gateway. */
  readonly memory: number;
  /** Seconds: the longest function timeout. */
  readonly longestTimeoutS: number;
  /** Seconds a replica needs to stop: drainDelay + shutdownTimeout. */
  readonly stopS: number;
  /** Replicas to keep even when idle: 1 if any function keeps a thread warm (minThreads > 0), else 0. */
  readonly minReplicas: number;
}

/** Requests one thread of `fn` takes at most. */
export function perThreadMax(fn: ResolvedFunction): number {
  return fn.concurrency === 'auto' ? AUTO_CONCURRENCY.max : fn.concurrency;
}

export function sizeReplica(config: ResolvedConfig): Sizing {
  const functions = Object.values(config.functions);
  const threads = functions.reduce((sum, fn) => sum + fn.maxThreads, 0);
  return {
    capacity: functions.reduce((sum, fn) => sum + fn.maxThreads * perThreadMax(fn), 0),
    cpu: threads,
    memory: functions.reduce((sum, fn) => sum + fn.maxThreads * fn.memoryLimit, 0) + threads * config.server.bodyLimit + GATEWAY_MEMORY,
    longestTimeoutS: Math.ceil(Math.max(0, ...functions.map((fn) => fn.timeout)) / 1000),
    stopS: Math.ceil((config.server.drainDelay + config.server.shutdownTimeout) / 1000),
    minReplicas: functions.some((fn) => fn.minThreads > 0) ? 1 : 0,
  };
}

/**
 * Where the cluster will behave differently from the machine the project was developed on:
 * printed by fngate build.
 */
export function clusterWarnings(config: ResolvedConfig, sizing: Sizing, options: { target: 'kubernetes' | 'knative'; coresDetected: readonly string[] }): string[] {
  const warnings: string[] = [];
  const shared = Object.values(config.functions).filter((fn) => fn.sharedMemory > 0).map((fn) => fn.name);
  if (shared.length > 0) {
    warnings.push(`sharedMemory (ctx.shared) of ${shared.join(', ')} is per replica: each replica counts on its own; use a database or cache for state every replica must see`);
  }
  warnings.push('module-scope state in a function (caches, counters) is per thread and per replica, as it is locally per thread');
  if (options.coresDetected.length > 0) {
    warnings.push(`maxThreads of ${options.coresDetected.join(', ')} is left to core detection: ${options.coresDetected.length === 1 ? 'it was' : 'they were'} sized from this machine's cores; set maxThreads so replicas are sized the same everywhere`);
  }
  if (options.target === 'knative' && sizing.longestTimeoutS > KNATIVE_DEFAULT_TIMEOUT_S) {
    warnings.push(`the longest function timeout (${sizing.longestTimeoutS} s) is above Knative's default of ${KNATIVE_DEFAULT_TIMEOUT_S} s: timeoutSeconds is set to it, which needs a cluster whose max-revision-timeout-seconds allows it; streams are cut at timeoutSeconds too`);
  }
  if (options.target === 'knative') warnings.push(`Knative cuts any response (streams included) at timeoutSeconds (${sizing.longestTimeoutS + 1} s here)`);
  if (sizing.memory > LARGE_POD_MEMORY) {
    warnings.push(`a replica may use ${formatSize(sizing.memory)} (Σ maxThreads × memoryLimit + bodies + gateway), more than most nodes give a pod: lower maxThreads or memoryLimit, or split heavy functions into groups`);
  }
  if (sizing.cpu > LARGE_POD_CPU) {
    warnings.push(`a replica requests ${sizing.cpu} CPUs (Σ maxThreads): lower maxThreads, or split heavy functions into groups`);
  }
  if (config.server.drainDelay === 0) warnings.push('server.drainDelay is set to 0 in config.yaml: requests sent while the cluster removes a stopping replica from its endpoints will fail; 5s is usual');
  return warnings;
}
