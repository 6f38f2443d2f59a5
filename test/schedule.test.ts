/** Schedule math with fixed instants (no clock, no timers). */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/loadConfig.js';
import { ConfigError } from '../src/errors.js';
import {
  nextFireTimes,
  scheduleFromConfig,
  slotsBetween,
  slotToCatchUp,
  type ScheduleEntry,
} from '../src/scheduler/schedule.js';

const entries = scheduleFromConfig(loadConfig({}));
const entry = (task: string): ScheduleEntry => entries.find((e) => e.task === task) as ScheduleEntry;
const msk = (text: string) => new Date(`${text}+03:00`);

describe('schedule', () => {
  it('defaults to the design schedule in Moscow time, whatever the host zone', () => {
    expect(entries.map((e) => [e.task, e.cron])).toEqual([
      ['vk_fetch', '35 5 * * *'],
      ['qtickets_fetch', '40 5 * * *'],
      ['build_dm_vk', '50 5 * * *'],
      ['build_dm_sales', '5 6 * * *'],
      ['healthcheck', '30 6 * * *'],
    ]);
    // 05:34 MSK → today 05:35 MSK (02:35 UTC), then tomorrow.
    expect(
      nextFireTimes(entry('vk_fetch'), msk('2026-11-30T05:34:00'), 2).map((d) => d.toISOString()),
    ).toEqual(['2026-11-30T02:35:00.000Z', '2026-12-01T02:35:00.000Z']);
  });

  it('can disable a task or change its time, and names a bad expression', () => {
    const c = loadConfig({ SCHEDULE_HEALTHCHECK: 'off', SCHEDULE_VK_FETCH: '0 4 * * 1-5' });
    const s = scheduleFromConfig(c);
    expect(s.find((e) => e.task === 'healthcheck')?.cron).toBeNull();
    expect(nextFireTimes(s.find((e) => e.task === 'healthcheck') as ScheduleEntry, new Date(), 3)).toEqual(
      [],
    );
    // Saturday 2026-12-05 → Monday 2026-12-07 04:00 MSK.
    expect(nextFireTimes(s[0] as ScheduleEntry, msk('2026-12-05T12:00:00'), 1)[0]?.toISOString()).toBe(
      '2026-12-07T01:00:00.000Z',
    );
    expect(() => loadConfig({ SCHEDULE_BUILD_DM_VK: '5 25 * * *' })).toThrow(ConfigError);
    expect(() => loadConfig({ SCHEDULE_BUILD_DM_VK: 'every day' })).toThrow(
      /SCHEDULE_BUILD_DM_VK: expected a 5-field cron/,
    );
  });

  it('lists the slots between two instants', () => {
    const slots = slotsBetween(
      entry('build_dm_sales'),
      msk('2026-11-28T07:00:00'),
      msk('2026-11-30T07:00:00'),
    );
    expect(slots.map((d) => d.toISOString())).toEqual([
      '2026-11-29T03:05:00.000Z',
      '2026-11-30T03:05:00.000Z',
    ]);
  });

  it('catches up only the latest missed slot within the window, and only if no run started since', () => {
    const vk = entry('vk_fetch');
    const sixHours = 6 * 3_600_000;
    // Down overnight, started at 07:00: today's 05:35 slot was missed.
    expect(
      slotToCatchUp(vk, msk('2026-11-30T07:00:00'), msk('2026-11-29T05:35:02'), sixHours)?.toISOString(),
    ).toBe('2026-11-30T02:35:00.000Z');
    // A timer or a person already ran it after the slot.
    expect(
      slotToCatchUp(vk, msk('2026-11-30T07:00:00'), msk('2026-11-30T06:10:00'), sixHours),
    ).toBeUndefined();
    // Started at 13:00: the slot is older than the window.
    expect(slotToCatchUp(vk, msk('2026-11-30T13:00:00'), null, sixHours)).toBeUndefined();
  });
});
