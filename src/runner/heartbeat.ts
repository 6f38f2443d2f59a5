/**
 * In-flight runs in `meta.etl_heartbeats`: a 'running' row at start, refreshed every
 * `intervalMs`, and a 'finished' row at the end (ReplacingMergeTree keeps the newest). A run whose
 * process died leaves a 'running' row behind; `recovery.ts` closes it as an interrupted error.
 * Heartbeat writes never fail a run: errors are logged.
 */
import type { Logger } from 'pino';
import type { DbClient } from '../clickhouse/db.js';
import type { IsoDate } from '../time/dates.js';

/** The identity of an in-flight run. */
export interface HeartbeatRun {
  runId: string;
  job: string;
  /** unix seconds */
  startedAt: number;
  fromDate: IsoDate;
  toDate: IsoDate;
  host: string;
  pid: number;
  versionTag: string;
  trigger: string;
  actor: string;
  parentRunId: string | null;
  /** `processIdentity(pid)` of the run's process ('' where /proc is unavailable). */
  procIdentity: string;
}

/** A running heartbeat; `stop()` writes the 'finished' row. */
export interface Heartbeat {
  stop(): Promise<void>;
}

/** Writes one heartbeat row; `nowMs` is the beat time. */
export async function writeHeartbeat(
  db: DbClient,
  run: HeartbeatRun,
  state: 'running' | 'finished',
  nowMs: number,
): Promise<void> {
  await db.insert('meta.etl_heartbeats', [
    {
      run_id: run.runId,
      job: run.job,
      state,
      started_at: run.startedAt,
      beat_at: (nowMs / 1000).toFixed(3),
      from_date: run.fromDate,
      to_date: run.toDate,
      host: run.host,
      pid: run.pid,
      version_tag: run.versionTag,
      trigger: run.trigger,
      actor: run.actor,
      parent_run_id: run.parentRunId,
      proc_identity: run.procIdentity,
    },
  ]);
}

/**
 * Starts beating for `run`.
 * @param intervalMs refresh period, ms.
 */
export async function startHeartbeat(options: {
  db: DbClient;
  run: HeartbeatRun;
  intervalMs: number;
  now: () => number;
  logger: Logger;
}): Promise<Heartbeat> {
  const { db, run, logger, now } = options;
  const beat = (state: 'running' | 'finished') =>
    writeHeartbeat(db, run, state, now()).catch((error: unknown) => {
      logger.warn({ job: run.job, runId: run.runId, err: String(error) }, 'heartbeat write failed');
    });
  await beat('running');
  let inFlight: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    inFlight = beat('running');
  }, options.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
      await beat('finished');
    },
  };
}
