/**
 * `etl backfill --from --to [--jobs] [--chunk-days] [--dry-run]`: the four jobs over a range in
 * chunks under one backfill_all parent run, with a terminal progress bar (one line per step when
 * stderr is not a terminal, e.g. under systemd or CI).
 */
import cliProgress from 'cli-progress';
import { planBackfill } from '../../../jobs/index.js';
import { openApp, type App } from '../../app/openApp.js';
import { ExitCode, UsageError } from '../../errors.js';
import type { HeldLock } from '../../runner/jobLock.js';
import { lockJob, planRunWindow } from '../../runner/runner.js';
import { STEP_JOBS, type StepJobName, type StepProgress } from '../../runner/job.js';
import type { RunRecord, Trigger } from '../../runner/runRecord.js';
import { parseIsoDate, type DateWindow } from '../../time/dates.js';
import { runSummary, textTable } from '../format.js';
import type { CommandContext } from '../main.js';
import { cliActor, cliTrigger } from './shared.js';

/** Options of `etl backfill`, as commander parses them. */
export interface BackfillOpts {
  from: string;
  to: string;
  jobs?: string;
  chunkDays?: string;
  dryRun?: boolean;
  trigger?: string;
  actor?: string;
}

/** Parses `--jobs`. @throws UsageError naming the unknown entries. */
export function parseStepJobs(list: string | undefined): StepJobName[] {
  if (list === undefined) return [...STEP_JOBS];
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !(STEP_JOBS as readonly string[]).includes(n));
  if (names.length === 0 || unknown.length > 0) {
    throw new UsageError(
      `--jobs must list some of ${STEP_JOBS.join(', ')}${unknown.length ? `; unknown: ${unknown.join(', ')}` : ''}`,
    );
  }
  return STEP_JOBS.filter((j) => names.includes(j));
}

/** The table each step job replaces, with its partition date column. */
const TARGETS: Record<StepJobName, [string, string]> = {
  vk_fetch: ['zakaz.stg_vk_ads_daily', 'stat_date'],
  qtickets_fetch: ['zakaz.stg_qtickets_sales', 'sale_date'],
  build_dm_vk: ['zakaz.dm_vk_ads_daily', 'stat_date'],
  build_dm_sales: ['zakaz.dm_sales_daily', 'sale_date'],
};

/** Rows currently in the tables that `jobs` replace, for a window (what a backfill would overwrite). */
export async function rowsInWindow(
  app: App,
  window: DateWindow,
  jobs: readonly StepJobName[],
): Promise<Array<{ table: string; rows: number }>> {
  const out: Array<{ table: string; rows: number }> = [];
  for (const [table, column] of jobs.map((j) => TARGETS[j])) {
    const [row] = await app.db.query<{ n: string }>(
      `SELECT count() AS n FROM ${table} WHERE ${column} BETWEEN {f:Date} AND {t:Date}`,
      { f: window.fromDate, t: window.toDate },
    );
    out.push({ table, rows: Number(row?.n ?? 0) });
  }
  return out;
}

/** Runs a backfill with progress output; shared with `etl demo`. */
export async function runBackfillWithProgress(
  ctx: CommandContext,
  app: App,
  request: {
    window: DateWindow;
    jobs: StepJobName[];
    chunkDays: number;
    trigger: Trigger;
    actor: string;
    lock?: HeldLock | undefined;
  },
): Promise<RunRecord> {
  const total = planBackfill(request.window, request.jobs, request.chunkDays).length;
  const bar = ctx.io.isTTY
    ? new cliProgress.SingleBar(
        {
          stream: ctx.io.stderr,
          format: 'backfill [{bar}] {value}/{total} steps | {step}',
          hideCursor: true,
          clearOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(total, 0, { step: 'starting' });
  const onProgress = (p: StepProgress) => {
    const step = `${p.job} ${p.window.fromDate}..${p.window.toDate} ${p.status} (${p.rowsWritten} rows)`;
    if (bar) bar.update(p.done, { step });
    else ctx.io.stderr.write(`backfill ${p.done}/${p.total}: ${step}\n`);
  };
  try {
    return await app.runner.run({
      job: 'backfill_all',
      window: { from: request.window.fromDate, to: request.window.toDate },
      trigger: request.trigger,
      actor: request.actor,
      backfill: { jobs: request.jobs, chunkDays: request.chunkDays, onProgress },
      lock: request.lock,
      signal: ctx.io.signal,
    });
  } finally {
    bar?.stop();
  }
}

/**
 * Runs (or with --dry-run, plans) a backfill.
 * @returns 0 ok, 1 a step failed. @throws UsageError (2), JobBusyError (75).
 */
export async function backfillCommand(ctx: CommandContext, opts: BackfillOpts): Promise<number> {
  parseIsoDate(opts.from, '--from');
  parseIsoDate(opts.to, '--to');
  const jobs = parseStepJobs(opts.jobs);
  const config = ctx.config();
  let chunkDays = config.runner.backfillChunkDays;
  if (opts.chunkDays !== undefined) {
    chunkDays = Number(opts.chunkDays);
    if (!/^\d+$/.test(opts.chunkDays) || chunkDays < 1 || chunkDays > 366) {
      throw new UsageError(`--chunk-days must be a whole number from 1 to 366, got "${opts.chunkDays}"`);
    }
  }
  const window = planRunWindow(config, 'backfill_all', { from: opts.from, to: opts.to }, Date.now(), {
    jobs,
  });

  const logger = ctx.logger(config);
  const trigger = cliTrigger(opts.trigger, ctx.io.env);
  const lock = opts.dryRun ? undefined : await lockJob({ config, job: 'backfill_all', trigger, logger });
  let app: App;
  try {
    app = await openApp({
      config,
      logger,
      owner: 'etl backfill',
      schema: 'require',
      notifier: ctx.notifier(config, logger),
    });
  } catch (error: unknown) {
    await lock?.release();
    throw error;
  }
  try {
    if (opts.dryRun) {
      const steps = planBackfill(window, jobs, chunkDays);
      ctx.out(`dry run: ${steps.length} steps over ${window.fromDate}..${window.toDate}, nothing is run`);
      ctx.out(
        textTable(
          ['#', 'job', 'window'],
          steps.map((s, i) => [i + 1, s.job, `${s.window.fromDate}..${s.window.toDate}`]),
          [0],
        ),
      );
      ctx.out('rows currently in that range (replaced by the backfill):');
      ctx.out(
        textTable(
          ['table', 'rows'],
          (await rowsInWindow(app, window, jobs)).map((r) => [r.table, r.rows]),
          [1],
        ),
      );
      return ExitCode.ok;
    }
    const record = await runBackfillWithProgress(ctx, app, {
      window,
      jobs,
      chunkDays,
      trigger,
      actor: cliActor(opts.actor, ctx.io.env),
      lock,
    });
    ctx.out(runSummary(record));
    return record.status === 'ok' ? ExitCode.ok : ExitCode.failed;
  } finally {
    await lock?.release();
    await app.close();
  }
}
