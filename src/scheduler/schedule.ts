/**
 * Schedule math, pure functions of an instant (croner for the cron arithmetic): the configured
 * slots of each scheduled task, their next fire times, the slots that passed between two
 * instants, and the slot a restarted scheduler should catch up. The same configuration feeds
 * the bot's scheduler, `etl schedule` and the systemd timers, so they never disagree.
 */
import { Cron } from 'croner';
import type { Config } from '../config/loadConfig.js';

/** What the scheduler starts: the four daily jobs and the healthcheck. */
export const SCHEDULED_TASKS = [
  'vk_fetch',
  'qtickets_fetch',
  'build_dm_vk',
  'build_dm_sales',
  'healthcheck',
] as const;
export type ScheduledTask = (typeof SCHEDULED_TASKS)[number];

/** One task's schedule. */
export interface ScheduleEntry {
  task: ScheduledTask;
  /** 5-field cron expression in `timezone`; null when disabled. */
  cron: string | null;
  /** IANA zone of the expression (ETL_TIMEZONE). */
  timezone: string;
}

/** The configured schedule, in task order. */
export function scheduleFromConfig(config: Config): ScheduleEntry[] {
  return SCHEDULED_TASKS.map((task) => ({
    task,
    cron: config.schedule.cron[task],
    timezone: config.timezone,
  }));
}

function cronOf(entry: ScheduleEntry): Cron | undefined {
  return entry.cron === null ? undefined : new Cron(entry.cron, { timezone: entry.timezone, paused: true });
}

/** The next `count` fire times strictly after `after` (none when disabled). */
export function nextFireTimes(entry: ScheduleEntry, after: Date, count: number): Date[] {
  const cron = cronOf(entry);
  if (!cron) return [];
  try {
    return cron.nextRuns(count, after);
  } finally {
    cron.stop();
  }
}

/** Fire times in the half-open interval (`from`, `to`], oldest first. */
export function slotsBetween(entry: ScheduleEntry, from: Date, to: Date): Date[] {
  const slots: Date[] = [];
  let cursor = from;
  for (;;) {
    const [next] = nextFireTimes(entry, cursor, 1);
    if (!next || next > to) return slots;
    slots.push(next);
    cursor = next;
  }
}

/**
 * The slot a scheduler starting at `now` should catch up: the latest slot within
 * `catchupWindowMs` before `now` that no run of the task started at or after. Only the latest
 * slot counts — a job runs its trailing window, so one catch-up covers several missed days.
 * @param lastStartedAt the start of the task's latest run (any trigger), or null when never run.
 */
export function slotToCatchUp(
  entry: ScheduleEntry,
  now: Date,
  lastStartedAt: Date | null,
  catchupWindowMs: number,
): Date | undefined {
  const slots = slotsBetween(entry, new Date(now.getTime() - catchupWindowMs), now);
  const latest = slots.at(-1);
  if (!latest) return undefined;
  return lastStartedAt !== null && lastStartedAt >= latest ? undefined : latest;
}
