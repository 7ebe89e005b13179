import { Cron } from 'croner';

/**
 * Cron expressions of `schedule`: the only user of croner. config/ validates them (so a bad one
 * is a config error with its line), the scheduler asks for the next run times.
 */

/** What a schedule runs on: its expression and the time zone its fields are read in. */
export interface CronSchedule {
  readonly cron: string;
  readonly timezone: string;
}

/** Why `cron` (in `timezone`) is not a schedule fngate runs, or undefined when it is. */
export function cronProblem(cron: string, timezone: string): string | undefined {
  const fields = cron.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) {
    return `expected a cron expression of 5 fields (minute hour day month weekday) or 6 (seconds first), got ${fields} field${fields === 1 ? '' : 's'} in ${JSON.stringify(cron)}`;
  }
  try {
    new Cron(cron, { timezone, paused: true }).nextRun();
  } catch (error) {
    return `${JSON.stringify(cron)} is not a valid cron expression: ${(error as Error).message.replace(/^CronPattern: /, '')}`;
  }
  return undefined;
}

/** The first time after `after` the schedule is due, or null when it never is again. */
export function nextRunAfter(schedule: CronSchedule, after: Date): Date | null {
  return new Cron(schedule.cron, { timezone: schedule.timezone, paused: true }).nextRun(after);
}

/** Whether `timezone` is an IANA time zone this Node knows. */
export function isTimezone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}
