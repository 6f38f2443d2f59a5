/**
 * Start-up housekeeping, done by every `etl` invocation and by the bot at start, so that no run
 * record is lost and no killed run stays "running" forever:
 * 1. spooled run records are written to `meta.etl_runs` (skipping those already there);
 * 2. runs whose process is gone (same host: the pid is dead; any host: no heartbeat for
 *    `staleMs`) are closed as `error` with err_msg "interrupted …";
 * 3. tmp tables left by killed runs are dropped.
 */
import type { Logger } from 'pino';
import type { Db } from '../clickhouse/db.js';
import { TMP_MARKER } from '../clickhouse/replaceWindow.js';
import { formatInstant } from '../time/dates.js';
import { writeHeartbeat, type HeartbeatRun } from './heartbeat.js';
import { ownerAlive, processIdentity } from './processIdentity.js';
import { existingRunIds, writeRun } from './registry.js';
import type { RunRecord, Trigger } from './runRecord.js';
import { readSpool, removeSpooled } from './spool.js';

/** What recovery did. */
export interface RecoveryReport {
  /** Spooled records now written to meta.etl_runs. */
  spooledWritten: RunRecord[];
  /** Runs closed as interrupted. */
  interrupted: RunRecord[];
  /** tmp tables dropped. */
  droppedTmpTables: string[];
}

interface HeartbeatRow {
  run_id: string;
  job: string;
  started_at: string;
  beat_ms: string;
  from_date: string;
  to_date: string;
  host: string;
  pid: number;
  version_tag: string;
  trigger: string;
  actor: string;
  parent_run_id: string | null;
  proc_identity: string;
}

/** Writes spooled records; returns those written. Files of records already present are removed. */
export async function flushSpool(db: Db, stateDir: string, logger: Logger): Promise<RunRecord[]> {
  const { records, broken } = readSpool(stateDir);
  for (const file of broken) logger.error({ file }, 'unreadable spooled run record left in place');
  if (records.length === 0) return [];
  const present = await existingRunIds(
    db.control,
    records.map((r) => r.record.runId),
  );
  const written: RunRecord[] = [];
  for (const { file, record } of records) {
    if (!present.has(record.runId)) {
      await writeRun(db.control, record);
      written.push(record);
      logger.info({ job: record.job, runId: record.runId }, 'spooled run record written');
    }
    removeSpooled(file);
  }
  return written;
}

/** Closes runs whose process is gone. */
export async function reapInterrupted(
  db: Db,
  options: { host: string; staleMs: number; now: () => number; timezone: string; logger: Logger },
): Promise<RunRecord[]> {
  const rows = await db.control.query<HeartbeatRow>(
    `SELECT toString(run_id) AS run_id, job, toUnixTimestamp(started_at) AS started_at,
            toUnixTimestamp64Milli(beat_at) AS beat_ms, toString(from_date) AS from_date, toString(to_date) AS to_date,
            host, pid, version_tag, trigger, actor, toString(parent_run_id) AS parent_run_id, proc_identity
     FROM meta.etl_heartbeats FINAL WHERE state = 'running'`,
  );
  const nowMs = options.now();
  const dead = rows.filter((r) => {
    const staleForMs = nowMs - Number(r.beat_ms);
    // On this host the process identity is authoritative (a slow but live run is not
    // interrupted, a dead one is found even when its pid was reused); elsewhere only the
    // heartbeat's age can tell.
    if (r.host === options.host) {
      if (r.pid === process.pid && r.proc_identity === processIdentity(process.pid)) return false;
      return !ownerAlive(r.pid, r.proc_identity);
    }
    return staleForMs > options.staleMs;
  });
  if (dead.length === 0) return [];
  const present = await existingRunIds(
    db.control,
    dead.map((r) => r.run_id),
  );
  const closed: RunRecord[] = [];
  for (const r of dead) {
    const hb: HeartbeatRun = {
      runId: r.run_id,
      job: r.job,
      startedAt: Number(r.started_at),
      fromDate: r.from_date,
      toDate: r.to_date,
      host: r.host,
      pid: r.pid,
      versionTag: r.version_tag,
      trigger: r.trigger,
      actor: r.actor,
      parentRunId: r.parent_run_id,
      procIdentity: r.proc_identity,
    };
    if (!present.has(r.run_id)) {
      const lastBeat = Math.floor(Number(r.beat_ms) / 1000);
      const record: RunRecord = {
        job: r.job,
        runId: r.run_id,
        startedAt: hb.startedAt,
        finishedAt: Math.max(lastBeat, hb.startedAt),
        status: 'error',
        rowsWritten: 0,
        rowsRead: 0,
        errMsg: `interrupted: process ${r.pid} on ${r.host} stopped without finishing the run (last heartbeat ${formatInstant(lastBeat, options.timezone)}); days of the window may be partly replaced: run it again`,
        fromDate: r.from_date,
        toDate: r.to_date,
        host: r.host,
        versionTag: r.version_tag,
        trigger: r.trigger as Trigger,
        actor: r.actor,
        parentRunId: r.parent_run_id,
        durationMs: Math.max(0, Number(r.beat_ms) - hb.startedAt * 1000),
        pid: r.pid,
      };
      await writeRun(db.control, record);
      closed.push(record);
      options.logger.warn({ job: r.job, runId: r.run_id, pid: r.pid }, 'closed an interrupted run');
    }
    await writeHeartbeat(db.control, hb, 'finished', nowMs);
  }
  return closed;
}

/** Drops tmp tables of runs that are not in flight. */
export async function dropOrphanTmpTables(db: Db, logger: Logger): Promise<string[]> {
  const tables = await db.control.query<{ name: string }>(
    `SELECT concat(database, '.', name) AS name FROM system.tables
     WHERE database IN ('zakaz', 'meta') AND position(name, {marker:String}) > 0`,
    { marker: TMP_MARKER },
  );
  if (tables.length === 0) return [];
  const running = new Set(
    (
      await db.control.query<{ id: string }>(
        "SELECT replaceAll(toString(run_id), '-', '') AS id FROM meta.etl_heartbeats FINAL WHERE state = 'running'",
      )
    ).map((r) => r.id),
  );
  const dropped: string[] = [];
  for (const { name } of tables) {
    const runHex = name.slice(name.indexOf(TMP_MARKER) + TMP_MARKER.length);
    if (running.has(runHex) || !/^[a-z_]+\.[a-z_0-9]+$/.test(name)) continue;
    await db.control.command(`DROP TABLE IF EXISTS ${name} SYNC`);
    dropped.push(name);
    logger.info({ table: name }, 'dropped a tmp table left by an interrupted run');
  }
  return dropped;
}

/** Runs all three steps. Failures of one step are logged and do not stop the others. */
export async function recover(
  db: Db,
  options: {
    stateDir: string;
    host: string;
    staleMs: number;
    now: () => number;
    timezone: string;
    logger: Logger;
  },
): Promise<RecoveryReport> {
  const report: RecoveryReport = { spooledWritten: [], interrupted: [], droppedTmpTables: [] };
  const { logger } = options;
  try {
    report.spooledWritten = await flushSpool(db, options.stateDir, logger);
  } catch (error: unknown) {
    logger.warn(
      { err: String(error) },
      'spooled run records could not be written yet; they stay in the spool',
    );
  }
  try {
    report.interrupted = await reapInterrupted(db, options);
  } catch (error: unknown) {
    logger.warn({ err: String(error) }, 'could not check for interrupted runs');
  }
  try {
    report.droppedTmpTables = await dropOrphanTmpTables(db, logger);
  } catch (error: unknown) {
    logger.warn({ err: String(error) }, 'could not drop leftover tmp tables');
  }
  return report;
}
