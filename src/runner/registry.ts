/**
 * The run registry `meta.etl_runs`: writing finished runs and reading the history.
 */
import type { DbClient } from '../clickhouse/db.js';
import { toRunRow, type RunRecord, type Trigger } from './runRecord.js';

/** Appends a finished run. @throws DatabaseError when ClickHouse refuses or cannot be reached. */
export async function writeRun(db: DbClient, record: RunRecord): Promise<void> {
  await db.insert('meta.etl_runs', [toRunRow(record)]);
}

/** Of `runIds`, those already present in `meta.etl_runs`. */
export async function existingRunIds(db: DbClient, runIds: string[]): Promise<Set<string>> {
  if (runIds.length === 0) return new Set();
  // The alias must not be `run_id`: ClickHouse would resolve the WHERE clause against the String
  // alias instead of the UUID column and match nothing.
  const rows = await db.query<{ id: string }>(
    'SELECT DISTINCT toString(run_id) AS id FROM meta.etl_runs WHERE run_id IN {ids:Array(UUID)}',
    { ids: runIds },
  );
  return new Set(rows.map((r) => r.id));
}

interface RunRowOut {
  job: string;
  run_id: string;
  started_at: string;
  finished_at: string;
  status: string;
  rows_written: string;
  rows_read: string;
  err_msg: string;
  from_date: string;
  to_date: string;
  host: string;
  version_tag: string;
  trigger: string;
  actor: string;
  parent_run_id: string | null;
  duration_ms: string;
  pid: number;
  started_ms: string;
}

/**
 * The latest runs, newest first.
 * @param filter.job only this job; `limit` rows at most (default 20); `sinceUnix` only runs
 *        started at or after this unix second.
 */
export async function listRuns(
  db: DbClient,
  filter: { job?: string | undefined; limit?: number; sinceUnix?: number },
): Promise<RunRecord[]> {
  const rows = await db.query<RunRowOut>(
    `SELECT job, toString(run_id) AS run_id, toUnixTimestamp(started_at) AS started_at,
            toUnixTimestamp(finished_at) AS finished_at, status, rows_written, rows_read, err_msg,
            toString(from_date) AS from_date, toString(to_date) AS to_date, host, version_tag, trigger, actor,
            toString(parent_run_id) AS parent_run_id, duration_ms, pid, started_ms
     FROM meta.etl_runs
     WHERE ({job:String} = '' OR job = {job:String}) AND started_at >= toDateTime({since:UInt32})
     ORDER BY started_at DESC, started_ms DESC
     LIMIT {limit:UInt32}`,
    { job: filter.job ?? '', limit: filter.limit ?? 20, since: filter.sinceUnix ?? 0 },
  );
  return rows.map((r) => ({
    job: r.job,
    runId: r.run_id,
    startedAt: Number(r.started_at),
    finishedAt: Number(r.finished_at),
    status: r.status === 'ok' ? 'ok' : 'error',
    rowsWritten: Number(r.rows_written),
    rowsRead: Number(r.rows_read),
    errMsg: r.err_msg,
    fromDate: r.from_date,
    toDate: r.to_date,
    host: r.host,
    versionTag: r.version_tag,
    trigger: r.trigger as Trigger,
    actor: r.actor,
    parentRunId: r.parent_run_id,
    durationMs: Number(r.duration_ms),
    pid: Number(r.pid),
    startedAtMs: Number(r.started_ms),
  }));
}

/** How many runs `meta.etl_runs` holds (of one job, when given). */
export async function countRuns(db: DbClient, job?: string): Promise<number> {
  const [row] = await db.query<{ n: string }>(
    "SELECT count() AS n FROM meta.etl_runs WHERE {job:String} = '' OR job = {job:String}",
    { job: job ?? '' },
  );
  return Number(row?.n ?? 0);
}
