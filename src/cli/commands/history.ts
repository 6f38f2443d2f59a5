/** `etl history [--job] [--limit] [--json]`: the latest runs, newest first. */
import { openApp } from '../../app/openApp.js';
import { ExitCode, UsageError } from '../../errors.js';
import { isJobName } from '../../runner/job.js';
import { countRuns, listRuns } from '../../runner/registry.js';
import { runsTable } from '../format.js';
import type { CommandContext } from '../main.js';

/** Prints the latest runs (table or JSON lines). @returns 0. @throws UsageError (2). */
export async function historyCommand(
  ctx: CommandContext,
  opts: { job?: string; limit: string; json?: boolean },
): Promise<number> {
  if (opts.job !== undefined && !isJobName(opts.job)) throw new UsageError(`unknown job "${opts.job}"`);
  const limit = Number(opts.limit);
  if (!/^\d+$/.test(opts.limit) || limit < 1 || limit > 1000) {
    throw new UsageError(`--limit must be a whole number from 1 to 1000, got "${opts.limit}"`);
  }
  const config = ctx.config();
  const logger = ctx.logger(config);
  const app = await openApp({
    config,
    logger,
    owner: 'etl history',
    schema: 'require',
    notifier: ctx.notifier(config, logger),
  });
  try {
    const runs = await listRuns(app.db, { job: opts.job, limit });
    if (opts.json) {
      for (const r of runs) ctx.out(JSON.stringify(r));
    } else if (runs.length === 0) {
      ctx.out('no runs recorded yet');
    } else {
      ctx.out(runsTable(runs, config.timezone));
      const total = await countRuns(app.db, opts.job);
      if (total > runs.length)
        ctx.out(`showing the latest ${runs.length} of ${total} runs; --limit N shows more`);
    }
    return ExitCode.ok;
  } finally {
    await app.close();
  }
}
