import { nextRunAfter, type CronSchedule } from '../config/cron.js';
import type { ResolvedFunction } from '../config/resolve-config.js';
import { RESERVED_PREFIX } from '../config/routes.js';
import { FngateError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { ScheduledTask, TaskEnvelope } from '../protocol/envelope.js';
import type { Invocation } from '../protocol/invocation.js';
import { Reply } from '../protocol/reply.js';
import { newRequestId } from '../protocol/request-id.js';

/** One run of a scheduled function, done. */
export interface ScheduledRun {
  /** Epoch ms the run was due (a trigger: when it was asked for). */
  readonly scheduledTime: number;
  /** Queue wait plus run, ms. */
  readonly ms: number;
  /** Why it failed (the handler threw, timed out, its thread died, ...), or null. */
  readonly failure: FngateError | null;
  /** Started by `fngate trigger` or POST /_fngate/trigger/NAME, not by the clock. */
  readonly manual: boolean;
}

/** A function's schedule as it is right now: the one projection status and metrics read. */
export interface ScheduleState {
  readonly cron: string;
  readonly timezone: string;
  /** When it is due next; null when the expression has no later time (or schedules are stopped). */
  readonly nextRun: Date | null;
  /** A run is going on now (since when), or null. */
  readonly runningSince: Date | null;
  /** Since the process started, kept across reloads: finished runs, those that failed, due times skipped. */
  readonly runs: number;
  readonly failures: number;
  readonly skipped: number;
  readonly lastRun: ScheduledRun | null;
}

export interface SchedulerOptions {
  /** Starts a run on the function's live version, as the gateway starts a request (its pool, its limits). */
  readonly invoke: (name: string, envelope: TaskEnvelope) => Invocation;
  readonly logger: Logger;
  /** Print a line for every run that went fine (dev); failures and skips are always printed. */
  readonly logRuns: boolean;
  /** Told of every finished run and every skip (for metrics). */
  readonly onRun?: (name: string, result: 'ok' | 'error' | 'skipped', ms: number) => void;
  /**
   * Run schedules by the clock. Without, functions run only when triggered: where something
   * else keeps the time (a cluster's CronJob, `fngate trigger`). @default true
   */
  readonly clock?: boolean;
}

/** setTimeout's longest delay (about 24.8 days): a later run is armed in steps. */
const MAX_DELAY_MS = 2 ** 31 - 1;

interface State {
  schedule: CronSchedule | null;
  timer: NodeJS.Timeout | undefined;
  next: Date | null;
  running: Promise<ScheduledRun> | undefined;
  runningSince: Date | null;
  runs: number;
  failures: number;
  skipped: number;
  lastRun: ScheduledRun | null;
}

/**
 * Runs functions on their `schedule`. A run is one task on the function's pool (queue, threads,
 * timeout, memory limit: all the function's own), started through the same `invoke` the gateway
 * uses. Runs of one function never overlap: a run still going when the next is due makes that
 * one skip (counted, logged). Schedules follow config reloads; counts outlive them.
 */
export class Scheduler {
  readonly #options: SchedulerOptions;
  readonly #states = new Map<string, State>();
  #stopped = false;

  constructor(options: SchedulerOptions) {
    this.#options = options;
  }

  /** Schedules exactly the functions of `functions` that have one; an unchanged schedule keeps its timer. */
  update(functions: readonly ResolvedFunction[]): void {
    if (this.#stopped) return;
    const wanted = new Map(functions.flatMap((fn) => (fn.schedule === null ? [] : [[fn.name, fn.schedule] as const])));
    for (const [name, state] of this.#states) {
      if (wanted.has(name)) continue;
      clearTimeout(state.timer);
      state.schedule = null;
      state.next = null;
    }
    for (const [name, schedule] of wanted) {
      const state = this.#states.get(name) ?? this.#newState(name);
      if (state.schedule !== null && state.schedule.cron === schedule.cron && state.schedule.timezone === schedule.timezone) continue;
      clearTimeout(state.timer);
      state.schedule = schedule;
      this.#arm(name, state, new Date());
    }
  }

  /** The function's schedule now, or undefined when it has none. */
  state(name: string): ScheduleState | undefined {
    const state = this.#states.get(name);
    if (state?.schedule == null) return undefined;
    const { cron, timezone } = state.schedule;
    return { cron, timezone, nextRun: state.next, runningSince: state.runningSince, runs: state.runs, failures: state.failures, skipped: state.skipped, lastRun: state.lastRun };
  }

  /**
   * Runs a scheduled function now (`fngate trigger`, POST /_fngate/trigger/NAME) and resolves
   * when the run is over. Throws FNGATE_NOT_FOUND for a function without a schedule and
   * FNGATE_ALREADY_RUNNING while a run is going: runs never overlap, triggered or not.
   */
  trigger(name: string): Promise<ScheduledRun> {
    const state = this.#states.get(name);
    if (state?.schedule == null) throw new FngateError('FNGATE_NOT_FOUND', `${name} has no schedule (config.yaml schedule:)`, { fn: name });
    if (state.running !== undefined) {
      throw new FngateError('FNGATE_ALREADY_RUNNING', `${name} is running since ${state.runningSince!.toISOString()}; runs of a scheduled function never overlap`, { fn: name });
    }
    return this.#start(name, state, { cron: state.schedule.cron, scheduledTime: Date.now() }, true);
  }

  /** No run starts any more (shutdown began); runs going on finish in their pools. */
  stop(): void {
    this.#stopped = true;
    for (const state of this.#states.values()) {
      clearTimeout(state.timer);
      state.next = null;
    }
  }

  /** Resolves when no run is going on. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#states.values()].flatMap((state) => (state.running === undefined ? [] : [state.running])));
  }

  #newState(name: string): State {
    const state: State = { schedule: null, timer: undefined, next: null, running: undefined, runningSince: null, runs: 0, failures: 0, skipped: 0, lastRun: null };
    this.#states.set(name, state);
    return state;
  }

  /** Sets the timer for the first due time after `after`. */
  #arm(name: string, state: State, after: Date): void {
    const schedule = state.schedule;
    if (schedule === null || this.#stopped || this.#options.clock === false) return;
    const next = nextRunAfter(schedule, after);
    state.next = next;
    if (next === null) return;
    this.#wait(name, state, schedule, next);
  }

  #wait(name: string, state: State, schedule: CronSchedule, due: Date): void {
    const delay = due.getTime() - Date.now();
    // Unref'd: schedules alone never keep a process alive (the server does).
    state.timer = setTimeout(() => {
      if (state.schedule !== schedule || this.#stopped) return;
      if (Date.now() < due.getTime()) return this.#wait(name, state, schedule, due); // a step of a long wait
      this.#due(name, state, schedule, due);
    }, Math.min(Math.max(0, delay), MAX_DELAY_MS));
    state.timer.unref();
  }

  #due(name: string, state: State, schedule: CronSchedule, due: Date): void {
    // The next time after this one, or after now when the process was held up past several.
    this.#arm(name, state, new Date(Math.max(due.getTime(), Date.now())));
    if (state.running !== undefined) {
      state.skipped++;
      this.#options.onRun?.(name, 'skipped', 0);
      this.#options.logger.warn(
        `⏭ ${name}: skipped the run due at ${due.toISOString()}: the run started at ${state.runningSince!.toISOString()} is still going (runs never overlap; schedule "${schedule.cron}")`,
      );
      return;
    }
    void this.#start(name, state, { cron: schedule.cron, scheduledTime: due.getTime() }, false);
  }

  #start(name: string, state: State, task: ScheduledTask, manual: boolean): Promise<ScheduledRun> {
    const started = performance.now();
    state.runningSince = new Date();
    const run = this.#run(name, task).then((failure): ScheduledRun => {
      const ms = Math.round((performance.now() - started) * 100) / 100;
      const result = { scheduledTime: task.scheduledTime, ms, failure, manual };
      state.runs++;
      if (failure !== null) state.failures++;
      state.lastRun = result;
      state.running = undefined;
      state.runningSince = null;
      this.#options.onRun?.(name, failure === null ? 'ok' : 'error', ms);
      const what = `${manual ? 'triggered run' : `scheduled run due at ${new Date(task.scheduledTime).toISOString()}`}`;
      if (failure !== null) this.#options.logger.error(`✘ ${name}: the ${what} failed after ${ms} ms: ${failure.code}: ${failure.message}`);
      else if (this.#options.logRuns) this.#options.logger.info(`⏱ ${name}: ${what} done in ${ms} ms`);
      return result;
    });
    state.running = run;
    return run;
  }

  /** One run on the function's pool: null when it went fine, else why it failed. Never throws. */
  async #run(name: string, task: ScheduledTask): Promise<FngateError | null> {
    // A module without a scheduled() export gets this request (see the README).
    const headers = ['host', 'localhost', 'user-agent', 'fngate-scheduler', 'x-fngate-cron', task.cron, 'x-fngate-scheduled-time', new Date(task.scheduledTime).toISOString()];
    const envelope: TaskEnvelope = [newRequestId(), 'POST', `http://localhost${RESERVED_PREFIX}/scheduled`, headers, null, null, 0, task];
    try {
      const invocation = this.#options.invoke(name, envelope);
      const reply = await invocation.reply;
      // Nobody reads a streamed answer: let the thread stop producing it.
      void invocation.body?.cancel().catch(() => {});
      const status = reply[Reply.status];
      if (status < 400) return null;
      return new FngateError(
        'FNGATE_FUNCTION_ERROR',
        `${name} answered its scheduled request (POST ${RESERVED_PREFIX}/scheduled) with ${status}; export scheduled(controller, env, ctx) to handle scheduled runs`,
        { fn: name },
      );
    } catch (error) {
      return error instanceof FngateError ? error : new FngateError('FNGATE_INTERNAL_ERROR', `the scheduled run of ${name} failed: ${String(error)}`, { fn: name, cause: error });
    }
  }
}
