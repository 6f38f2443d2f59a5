/**
 * The scheduler of `etl bot`: starts each enabled task at its slots (SCHEDULE_*, ETL_TIMEZONE),
 * catches up the latest slot missed while the process was down (trigger `catchup`, within
 * SCHEDULE_CATCHUP_WINDOW_MS), and never overlaps a job already running whatever started it
 * (the runner's job lock refuses it; the slot is then counted as taken). A slot that passes
 * without any run of its job, beyond a grace period, raises MISSED_RUN.
 *
 * Time is injected: `now()` and a `Timers` port, so tests drive it with a manual clock. Only
 * `realTimers` touches the real clock.
 */
import type { Logger } from 'pino';
import { JobBusyError } from '../errors.js';
import { nextFireTimes, slotToCatchUp, type ScheduleEntry, type ScheduledTask } from './schedule.js';

/** The timer functions the scheduler uses (real ones in production, a manual clock in tests). */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Real timers, unref'd so they never keep a finished process alive. */
export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** What the scheduler needs from the rest of the process. */
export interface SchedulerDeps {
  entries: ScheduleEntry[];
  /** Runs a task now. Throws JobBusyError when the job is already running (treated as taken). */
  runTask(task: ScheduledTask, trigger: 'schedule' | 'catchup'): Promise<void>;
  /** Start of the latest run of a task (any trigger), or null; for catch-up and missed slots. */
  lastStartedAt(task: ScheduledTask): Promise<Date | null>;
  /** Tells a slot that passed without a run (MISSED_RUN). */
  reportMissed(task: ScheduledTask, slot: Date): Promise<void>;
  catchupWindowMs: number;
  /** How long after a slot a run must have started before it counts as missed, ms. @default 15 min */
  missedGraceMs?: number;
  now: () => number;
  timers: Timers;
  logger: Logger;
}

/** A running scheduler. */
export interface Scheduler {
  /** Catches up missed slots, then arms every enabled task. */
  start(): Promise<void>;
  /** Disarms every timer; runs in progress are not touched (their owner waits for them). */
  stop(): void;
  /** Next fire time per enabled task (for /status and /schedule). */
  nextRuns(): Array<{ task: ScheduledTask; at: Date }>;
}

/** Creates a scheduler (nothing is armed until `start`). */
export function createScheduler(deps: SchedulerDeps): Scheduler {
  const grace = deps.missedGraceMs ?? 15 * 60_000;
  const handles = new Map<string, unknown>();
  const running = new Set<ScheduledTask>();
  let stopped = false;

  /** Runs a task; 'busy' when a run of it was already going (here or in another process). */
  async function fire(
    task: ScheduledTask,
    trigger: 'schedule' | 'catchup',
  ): Promise<'started' | 'busy' | 'failed'> {
    if (running.has(task)) {
      deps.logger.warn({ task }, 'slot taken: the previous run of this task is still going');
      return 'busy';
    }
    running.add(task);
    try {
      await deps.runTask(task, trigger);
      return 'started';
    } catch (error: unknown) {
      if (error instanceof JobBusyError) {
        deps.logger.info({ task }, 'slot taken by a run started elsewhere');
        return 'busy';
      }
      deps.logger.error(
        { task, err: error instanceof Error ? error.message : String(error) },
        'scheduled task failed to start',
      );
      return 'failed';
    } finally {
      running.delete(task);
    }
  }

  function arm(entry: ScheduleEntry, key: string, at: Date, action: () => Promise<void>): void {
    if (stopped) return;
    const handle = deps.timers.setTimeout(
      () => {
        handles.delete(key);
        void action().catch((error: unknown) => {
          deps.logger.error(
            { task: entry.task, err: error instanceof Error ? error.message : String(error) },
            'scheduler step failed',
          );
        });
      },
      Math.max(0, at.getTime() - deps.now()),
    );
    handles.set(key, handle);
  }

  function armNext(entry: ScheduleEntry): void {
    const [next] = nextFireTimes(entry, new Date(deps.now()), 1);
    if (!next) return;
    arm(entry, `${entry.task}:slot`, next, async () => {
      armNext(entry);
      const slot: { outcome?: 'started' | 'busy' | 'failed' } = {};
      // The missed-run check of this slot, once the grace period has passed. A slot refused
      // because the job was already running is taken, not missed.
      arm(entry, `${entry.task}:check:${next.getTime()}`, new Date(next.getTime() + grace), async () => {
        if (slot.outcome === 'busy') return;
        const last = await deps.lastStartedAt(entry.task);
        if (last === null || last < next) await deps.reportMissed(entry.task, next);
      });
      slot.outcome = await fire(entry.task, 'schedule');
    });
  }

  return {
    async start() {
      stopped = false;
      const now = new Date(deps.now());
      for (const entry of deps.entries) {
        if (entry.cron === null) continue;
        const slot = slotToCatchUp(entry, now, await deps.lastStartedAt(entry.task), deps.catchupWindowMs);
        if (slot) {
          deps.logger.info({ task: entry.task, slot: slot.toISOString() }, 'catching up a missed slot');
          await fire(entry.task, 'catchup');
        }
      }
      for (const entry of deps.entries) if (entry.cron !== null) armNext(entry);
    },
    stop() {
      stopped = true;
      for (const handle of handles.values()) deps.timers.clearTimeout(handle);
      handles.clear();
    },
    nextRuns() {
      const now = new Date(deps.now());
      return deps.entries.flatMap((e) => nextFireTimes(e, now, 1).map((at) => ({ task: e.task, at })));
    },
  };
}
