/**
 * What the `/backfill` conversation shows before anything runs: the load state of each day on the
 * calendar (from `meta.etl_runs`) and a preview of a chosen range (steps, a duration estimate
 * from past runs, and the rows now in the target tables that the backfill will replace).
 * Read-only; every date is an MSK business date `YYYY-MM-DD`.
 */
import type { DbClient } from '../clickhouse/db.js';
import type { Config } from '../config/loadConfig.js';
import { UsageError } from '../errors.js';
import { DM_SALES_DAILY, DM_VK_ADS_DAILY, STG_QTICKETS_SALES, STG_VK_ADS_DAILY } from '../marts/tables.js';
import type { PartitionedTable } from '../clickhouse/replaceWindow.js';
import { STEP_JOBS, type StepJobName } from '../runner/job.js';
import { eachDay, isIsoDate, windowDays, type DateWindow, type IsoDate } from '../time/dates.js';
import { planBackfill } from '../../jobs/backfill_all.js';
import type { DayState } from './calendar.js';

/** A range of MSK dates and the step jobs a backfill would run over it. */
export interface BackfillSelection {
  /** Step jobs; duplicates and order do not matter (they run in `STEP_JOBS` order). */
  jobs: readonly StepJobName[];
  /** First MSK date `YYYY-MM-DD`, inclusive. */
  from: IsoDate;
  /** Last MSK date `YYYY-MM-DD`, inclusive. */
  to: IsoDate;
}

/** The preview of a backfill shown before the admin confirms it. */
export interface BackfillPreview {
  /** Days in [from, to]. */
  days: number;
  /** Chunks of at most `ETL_BACKFILL_CHUNK_DAYS` days: ceil(days / chunkDays). */
  chunks: number;
  /** Step runs the backfill will record: chunks × jobs. */
  steps: number;
  /**
   * Expected wall time, ms: per job, the median over its last 50 ok runs of (run duration ÷ days
   * in the run's window), × days; summed over the jobs. null when a chosen job has no ok run yet.
   */
  estimatedMs: number | null;
  /** Per chosen job in run order: rows now in its target table for [from, to] (all replaced). */
  replaces: Array<{ job: StepJobName; table: string; rows: number }>;
}

/** The table each step job replaces its window in (source: sql/migrations/0002, 0004). */
const TARGETS: Readonly<Record<StepJobName, PartitionedTable>> = {
  vk_fetch: STG_VK_ADS_DAILY,
  qtickets_fetch: STG_QTICKETS_SALES,
  build_dm_vk: DM_VK_ADS_DAILY,
  build_dm_sales: DM_SALES_DAILY,
};

/** Past ok runs per job that the duration estimate looks at. */
const ESTIMATE_RUNS = 50;

function checkWindow(selection: BackfillSelection): DateWindow {
  for (const [name, value] of [
    ['from', selection.from],
    ['to', selection.to],
  ] as const) {
    if (!isIsoDate(value))
      throw new UsageError(`backfill ${name} must be a real date YYYY-MM-DD, got "${value}"`);
  }
  if (selection.from > selection.to) {
    throw new UsageError(`backfill from ${selection.from} is after to ${selection.to}`);
  }
  return { fromDate: selection.from, toDate: selection.to };
}

/** The chosen jobs, once each, in run order. */
function orderedJobs(jobs: readonly StepJobName[]): StepJobName[] {
  return STEP_JOBS.filter((job) => jobs.includes(job));
}

/**
 * The load state of every day in [from, to] for the chosen jobs, from `meta.etl_runs`. For each
 * job and day, the run that counts is the job's latest (by started_at, started_ms) whose window
 * [from_date, to_date] covers the day. A day is `failed` when any job's counting run failed, else
 * `never` when some job has no covering run, else `zero` when some counting run wrote 0 rows
 * (rows_written is per run window, so a day with no rows inside a loaded week stays `ok`), else
 * `ok`. With no jobs every day is `never`. One query, however many days.
 * @returns an entry for every day of [from, to], in order.
 * @throws UsageError for an impossible or reversed range; DatabaseError when ClickHouse fails.
 */
export async function dayStates(db: DbClient, selection: BackfillSelection): Promise<Map<IsoDate, DayState>> {
  const window = checkWindow(selection);
  const jobs = orderedJobs(selection.jobs);
  const days = eachDay(window);
  const states = new Map<IsoDate, DayState>(days.map((d) => [d, 'never']));
  if (jobs.length === 0) return states;
  // Aliases are prefixed: an alias named like a column (from_date, status) would shadow it in
  // WHERE and silently change the filter.
  const rows = await db.query<{ r_job: string; r_date: string; r_status: string; r_rows: string }>(
    `SELECT r_job, toString(r_day) AS r_date,
            argMax(r_run_status, (r_started_at, r_started_ms)) AS r_status,
            argMax(r_run_rows, (r_started_at, r_started_ms)) AS r_rows
     FROM (
       SELECT job AS r_job, status AS r_run_status, rows_written AS r_run_rows,
              started_at AS r_started_at, started_ms AS r_started_ms,
              greatest(from_date, {from:Date}) AS r_from, least(to_date, {to:Date}) AS r_to,
              arrayJoin(arrayMap(i -> addDays(r_from, i), range(toUInt32(dateDiff('day', r_from, r_to) + 1)))) AS r_day
       FROM meta.etl_runs
       WHERE job IN {jobs:Array(String)} AND from_date <= to_date
         AND from_date <= {to:Date} AND to_date >= {from:Date}
     )
     GROUP BY r_job, r_day`,
    { jobs, from: window.fromDate, to: window.toDate },
  );
  const latest = new Map<string, { ok: boolean; rows: number }>();
  for (const r of rows)
    latest.set(`${r.r_job}|${r.r_date}`, { ok: r.r_status === 'ok', rows: Number(r.r_rows) });
  for (const day of days) {
    const runs = jobs.map((job) => latest.get(`${job}|${day}`));
    let state: DayState = 'ok';
    if (runs.some((run) => run !== undefined && !run.ok)) state = 'failed';
    else if (runs.some((run) => run === undefined)) state = 'never';
    else if (runs.some((run) => run?.rows === 0)) state = 'zero';
    states.set(day, state);
  }
  return states;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The preview of a backfill of the chosen jobs over [from, to] (see `BackfillPreview` for units).
 * Chunks and steps are counted exactly as backfill_all will run them. Two queries: past ok runs
 * of the jobs in `meta.etl_runs` (a run recorded without duration_ms counts finished_at −
 * started_at), and the row counts of the target tables for the range.
 * @param config.runner.backfillChunkDays days per chunk (`ETL_BACKFILL_CHUNK_DAYS`).
 * @throws UsageError for an impossible or reversed range; DatabaseError when ClickHouse fails.
 */
export async function backfillPreview(
  db: DbClient,
  config: { runner: Pick<Config['runner'], 'backfillChunkDays'> },
  selection: BackfillSelection,
): Promise<BackfillPreview> {
  const window = checkWindow(selection);
  const jobs = orderedJobs(selection.jobs);
  const days = windowDays(window);
  const chunkDays = config.runner.backfillChunkDays;
  const steps = planBackfill(window, jobs, chunkDays).length;
  const chunks = Math.ceil(days / chunkDays);
  if (jobs.length === 0) return { days, chunks, steps, estimatedMs: 0, replaces: [] };

  const history = await db.query<{ e_job: string; e_ms_per_day: number }>(
    `SELECT job AS e_job,
            if(duration_ms > 0, toFloat64(duration_ms),
               toFloat64(greatest(dateDiff('second', started_at, finished_at), 0)) * 1000)
              / (dateDiff('day', from_date, to_date) + 1) AS e_ms_per_day
     FROM meta.etl_runs
     WHERE job IN {jobs:Array(String)} AND status = 'ok' AND from_date <= to_date
     ORDER BY job, started_at DESC, started_ms DESC
     LIMIT ${ESTIMATE_RUNS} BY job`,
    { jobs },
  );
  let estimatedMs: number | null = 0;
  for (const job of jobs) {
    const perDay = history.filter((h) => h.e_job === job).map((h) => Number(h.e_ms_per_day));
    if (perDay.length === 0) {
      estimatedMs = null;
      break;
    }
    estimatedMs += median(perDay) * days;
  }

  // Table and column names come from TARGETS (code), never from input.
  const counts = await db.query<{ p_table: string; p_rows: string }>(
    jobs
      .map(
        (job) =>
          `SELECT '${TARGETS[job].table}' AS p_table, count() AS p_rows FROM ${TARGETS[job].table}
           WHERE ${TARGETS[job].dateColumn} BETWEEN {from:Date} AND {to:Date}`,
      )
      .join('\nUNION ALL\n'),
    { from: window.fromDate, to: window.toDate },
  );
  const replaces = jobs.map((job) => ({
    job,
    table: TARGETS[job].table,
    rows: Number(counts.find((c) => c.p_table === TARGETS[job].table)?.p_rows ?? 0),
  }));
  return {
    days,
    chunks,
    steps,
    estimatedMs: estimatedMs === null ? null : Math.round(estimatedMs),
    replaces,
  };
}
