/**
 * One finished run, as stored in `meta.etl_runs` (the customer's twelve columns, then ours).
 */
import type { IsoDate } from '../time/dates.js';

/** What triggered a run. */
export type Trigger = 'cli' | 'schedule' | 'catchup' | 'chat' | 'ci' | 'demo' | 'backfill';

/** A finished run. Times are unix seconds; dates are MSK `YYYY-MM-DD`. */
export interface RunRecord {
  job: string;
  runId: string;
  startedAt: number;
  finishedAt: number;
  status: 'ok' | 'error';
  rowsWritten: number;
  rowsRead: number;
  /** Short, scrubbed of secrets; '' when ok. */
  errMsg: string;
  fromDate: IsoDate;
  toDate: IsoDate;
  host: string;
  versionTag: string;
  trigger: Trigger;
  actor: string;
  parentRunId: string | null;
  durationMs: number;
  pid: number;
  /** Start as unix ms (orders runs started within one second); absent in records spooled by older versions. */
  startedAtMs?: number;
  /**
   * The full error message chain (scrubbed, up to 20 000 characters) for the alert's
   * attachment; not stored in meta.etl_runs, whose err_msg stays short.
   */
  errDetail?: string;
}

/** The `meta.etl_runs` row of a record (JSONEachRow). */
export function toRunRow(r: RunRecord): Record<string, unknown> {
  return {
    job: r.job,
    run_id: r.runId,
    started_at: r.startedAt,
    finished_at: r.finishedAt,
    status: r.status,
    rows_written: String(r.rowsWritten),
    rows_read: String(r.rowsRead),
    err_msg: r.errMsg,
    from_date: r.fromDate,
    to_date: r.toDate,
    host: r.host,
    version_tag: r.versionTag,
    trigger: r.trigger,
    actor: r.actor,
    parent_run_id: r.parentRunId,
    duration_ms: String(r.durationMs),
    pid: r.pid,
    started_ms: r.startedAtMs === undefined ? undefined : String(r.startedAtMs),
  };
}
