/** `etl run <job> [--from] [--to]`: one run, recorded; exit 0 ok, 1 failed, 2 bad input, 75 busy. */
import { openApp } from '../../app/openApp.js';
import { ExitCode, UsageError } from '../../errors.js';
import { isJobName } from '../../runner/job.js';
import { lockJob, planRunWindow } from '../../runner/runner.js';
import { runSummary } from '../format.js';
import type { CommandContext } from '../main.js';
import { cliActor, cliTrigger } from './shared.js';

/**
 * Runs one job and prints its summary.
 * @returns 0 ok, 1 failed. @throws UsageError/ConfigError (2), JobBusyError/DatabaseBusyError (75).
 */
export async function runCommand(
  ctx: CommandContext,
  job: string,
  opts: { from?: string; to?: string; trigger?: string; actor?: string },
): Promise<number> {
  // Bad input is refused before anything is opened or written.
  if (!isJobName(job)) {
    throw new UsageError(
      `unknown job "${job}"; jobs: vk_fetch, qtickets_fetch, build_dm_vk, build_dm_sales, backfill_all`,
    );
  }
  const config = ctx.config();
  planRunWindow(config, job, { from: opts.from, to: opts.to }, Date.now());
  const logger = ctx.logger(config);
  const trigger = cliTrigger(opts.trigger, ctx.io.env);
  // The job's lock first: a second run of the same job is refused at once (exit 75), before it
  // would queue on the embedded database.
  const lock = await lockJob({ config, job, trigger, logger });
  let app;
  try {
    app = await openApp({
      config,
      logger,
      owner: `etl run ${job}`,
      schema: 'require',
      notifier: ctx.notifier(config, logger),
    });
  } catch (error: unknown) {
    await lock.release();
    throw error;
  }
  try {
    const record = await app.runner.run({
      job,
      window: { from: opts.from, to: opts.to },
      trigger,
      actor: cliActor(opts.actor, ctx.io.env),
      lock,
      signal: ctx.io.signal,
    });
    ctx.out(runSummary(record));
    return record.status === 'ok' ? ExitCode.ok : ExitCode.failed;
  } finally {
    await lock.release();
    await app.close();
  }
}
