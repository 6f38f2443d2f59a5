/** `etl schedule [--count N]`: the configured schedule and its next fire times in ETL_TIMEZONE. */
import { ExitCode, UsageError } from '../../errors.js';
import { nextFireTimes, scheduleFromConfig } from '../../scheduler/schedule.js';
import { formatInstant } from '../../time/dates.js';
import { textTable } from '../format.js';
import type { CommandContext } from '../main.js';

/** Prints the schedule. @returns 0. @throws UsageError (2) for a bad --count. */
export function scheduleCommand(ctx: CommandContext, opts: { count: string }): number {
  const count = Number(opts.count);
  if (!/^\d+$/.test(opts.count) || count < 1 || count > 100) {
    throw new UsageError(`--count must be a whole number from 1 to 100, got "${opts.count}"`);
  }
  const config = ctx.config();
  const now = new Date();
  ctx.out(
    textTable(
      ['task', `cron (${config.timezone})`, 'next fire times'],
      scheduleFromConfig(config).map((e) => [
        e.task,
        e.cron ?? 'off',
        e.cron === null
          ? 'disabled'
          : nextFireTimes(e, now, count)
              .map((d) => formatInstant(d.getTime() / 1000, config.timezone).slice(0, 16))
              .join(', '),
      ]),
    ),
  );
  return ExitCode.ok;
}
