/** The scheduler with a manual clock: slots fire once, missed slots are caught up once, MISSED_RUN. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/loadConfig.js';
import { JobBusyError } from '../src/errors.js';
import { scheduleFromConfig, type ScheduledTask } from '../src/scheduler/schedule.js';
import { createScheduler } from '../src/scheduler/scheduler.js';
import { silentLogger } from './helpers/env.js';
import { ManualClock } from './helpers/manualClock.js';

const msk = (text: string) => new Date(`${text}+03:00`).getTime();

function harness(
  startMs: number,
  lastRuns: Partial<Record<ScheduledTask, number>>,
  failToStart: ScheduledTask[] = [],
  busy: ScheduledTask[] = [],
) {
  const clock = new ManualClock(startMs);
  const started: Array<[ScheduledTask, string, string]> = [];
  const missed: Array<[ScheduledTask, string]> = [];
  const last = new Map(Object.entries(lastRuns) as Array<[ScheduledTask, number]>);
  const scheduler = createScheduler({
    entries: scheduleFromConfig(loadConfig({})),
    runTask: (task, trigger) => {
      if (failToStart.includes(task)) return Promise.reject(new Error('cannot start'));
      // Another process (a systemd timer, a chat command) holds the job's lock.
      if (busy.includes(task)) return Promise.reject(new JobBusyError(task, '(pid 1)'));
      started.push([task, trigger, new Date(clock.nowMs).toISOString()]);
      last.set(task, clock.nowMs);
      return Promise.resolve();
    },
    lastStartedAt: (task) => Promise.resolve(last.has(task) ? new Date(last.get(task) as number) : null),
    reportMissed: (task, slot) => {
      missed.push([task, slot.toISOString()]);
      return Promise.resolve();
    },
    catchupWindowMs: 6 * 3_600_000,
    now: clock.now,
    timers: clock,
    logger: silentLogger,
  });
  return { clock, scheduler, started, missed };
}

const yesterdaySlots = {
  vk_fetch: msk('2026-11-29T05:35:01'),
  qtickets_fetch: msk('2026-11-29T05:40:01'),
  build_dm_vk: msk('2026-11-29T05:50:01'),
  build_dm_sales: msk('2026-11-29T06:05:01'),
  healthcheck: msk('2026-11-29T06:30:01'),
};

describe('scheduler', () => {
  it('starts vk_fetch once at 05:35 MSK, then each task at its slot', async () => {
    const h = harness(msk('2026-11-30T05:00:00'), yesterdaySlots);
    await h.scheduler.start();
    expect(h.started).toEqual([]);
    await h.clock.advanceTo(msk('2026-11-30T05:35:30'));
    expect(h.started).toEqual([['vk_fetch', 'schedule', '2026-11-30T02:35:00.000Z']]);
    await h.clock.advanceTo(msk('2026-11-30T06:31:00'));
    expect(h.started.map(([t]) => t)).toEqual([
      'vk_fetch',
      'qtickets_fetch',
      'build_dm_vk',
      'build_dm_sales',
      'healthcheck',
    ]);
    expect(
      h.scheduler
        .nextRuns()
        .find((r) => r.task === 'vk_fetch')
        ?.at.toISOString(),
    ).toBe('2026-12-01T02:35:00.000Z');
    h.scheduler.stop();
  });

  it('after a night down, a start at 07:00 catches up each missed task once', async () => {
    const h = harness(msk('2026-11-30T07:00:00'), yesterdaySlots);
    await h.scheduler.start();
    expect(h.started.map(([t, trigger]) => `${t}:${trigger}`)).toEqual([
      'vk_fetch:catchup',
      'qtickets_fetch:catchup',
      'build_dm_vk:catchup',
      'build_dm_sales:catchup',
      'healthcheck:catchup',
    ]);
    await h.clock.advanceTo(msk('2026-11-30T23:59:00'));
    expect(h.started).toHaveLength(5);
    h.scheduler.stop();
  });

  it('raises MISSED_RUN for a slot that passes without a run, and not for the others', async () => {
    const h = harness(msk('2026-11-30T05:00:00'), yesterdaySlots, ['build_dm_vk']);
    await h.scheduler.start();
    await h.clock.advanceTo(msk('2026-11-30T07:00:00'));
    expect(h.missed).toEqual([['build_dm_vk', '2026-11-30T02:50:00.000Z']]);
    h.scheduler.stop();
  });

  it('a slot whose job is already running elsewhere is taken, not missed', async () => {
    const h = harness(msk('2026-11-30T05:00:00'), yesterdaySlots, [], ['build_dm_sales']);
    await h.scheduler.start();
    await h.clock.advanceTo(msk('2026-11-30T07:00:00'));
    expect(h.started.map(([t]) => t)).not.toContain('build_dm_sales');
    expect(h.missed).toEqual([]);
    h.scheduler.stop();
  });

  it('stop() disarms every slot', async () => {
    const h = harness(msk('2026-11-30T05:00:00'), yesterdaySlots);
    await h.scheduler.start();
    h.scheduler.stop();
    await h.clock.advanceTo(msk('2026-12-02T00:00:00'));
    expect(h.started).toEqual([]);
  });
});
