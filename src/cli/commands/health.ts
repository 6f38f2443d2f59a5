/**
 * `etl health [--date YYYY-MM-DD] [--json] [--notify]`: the healthcheck for the MSK yesterday
 * (or `--date`). Exit 0 all checks pass, 1 a check failed, 2 usage or configuration error.
 */
import { openApp } from '../../app/openApp.js';
import { ExitCode, UsageError } from '../../errors.js';
import { runHealthcheck } from '../../health/healthcheck.js';
import { addDays, businessDate, parseIsoDate } from '../../time/dates.js';
import { textTable } from '../format.js';
import type { CommandContext } from '../main.js';

/** Runs the healthcheck and prints it. @returns 0 healthy, 1 a check failed. @throws UsageError (2). */
export async function healthCommand(
  ctx: CommandContext,
  opts: { date?: string; json?: boolean; notify?: boolean },
): Promise<number> {
  if (opts.date !== undefined) parseIsoDate(opts.date, '--date');
  const config = ctx.config();
  const date = opts.date ?? addDays(businessDate(new Date(), config.timezone), -1);
  if (date > businessDate(new Date(), config.timezone))
    throw new UsageError(`--date ${date} is in the future`);
  const logger = ctx.logger(config);
  const app = await openApp({
    config,
    logger,
    owner: 'etl health',
    schema: 'require',
    notifier: ctx.notifier(config, logger),
  });
  try {
    const report = await runHealthcheck(app.db, config, date, Date.now());
    if (opts.notify) {
      await app.alerter.raise(report.checks.flatMap((c) => (c.alert ? [c.alert] : [])));
    }
    if (opts.json) {
      ctx.out(
        JSON.stringify({
          date: report.date,
          ok: report.ok,
          checks: report.checks.map(({ alert: _a, ...c }) => c),
        }),
      );
    } else {
      ctx.out(`healthcheck for ${report.date} (${config.timezone}): ${report.ok ? 'OK' : 'FAILED'}`);
      ctx.out(
        textTable(
          ['check', 'result', 'detail'],
          report.checks.map((c) => [c.name, c.ok ? 'ok' : 'FAIL', c.detail]),
        ),
      );
    }
    return report.ok ? ExitCode.ok : ExitCode.failed;
  } finally {
    await app.close();
  }
}
