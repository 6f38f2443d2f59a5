/**
 * `meta.etl_alerts`: one row per alert_id (ReplacingMergeTree on `version`, read with FINAL).
 */
import type { DbClient } from '../clickhouse/db.js';
import type { AlertCode, AlertRecord, DeliveryState, Severity } from './alert.js';

/** The table row of a record (JSONEachRow). */
export function toAlertRow(a: AlertRecord): Record<string, unknown> {
  return {
    ts: a.ts,
    severity: a.severity,
    job: a.job,
    code: a.code,
    message: a.message,
    context_json: a.contextJson,
    alert_id: a.alertId,
    dedup_key: a.dedupKey,
    run_id: a.runId,
    data_date: a.dataDate,
    occurrences: a.occurrences,
    last_seen: a.lastSeen,
    delivery_state: a.deliveryState,
    delivery_error: a.deliveryError,
    notified_at: a.notifiedAt,
    chat_id: a.chatId,
    message_id: a.messageId === null ? null : String(a.messageId),
    resolved_at: a.resolvedAt,
    resolved_by_run_id: a.resolvedByRunId,
    version: String(a.version),
  };
}

/** Writes versions of alerts. @throws DatabaseError */
export async function writeAlerts(db: DbClient, alerts: AlertRecord[]): Promise<void> {
  if (alerts.length > 0) await db.insert('meta.etl_alerts', alerts.map(toAlertRow));
}

const SELECT = `SELECT toString(alert_id) AS alert_id, toUnixTimestamp(ts) AS ts, severity, job, code, message, context_json,
  dedup_key, toString(run_id) AS run_id, toString(data_date) AS data_date, occurrences, toUnixTimestamp(last_seen) AS last_seen,
  delivery_state, delivery_error, toUnixTimestamp(notified_at) AS notified_at, chat_id, message_id,
  toUnixTimestamp(resolved_at) AS resolved_at, toString(resolved_by_run_id) AS resolved_by_run_id, version
  FROM meta.etl_alerts FINAL`;

interface Row {
  alert_id: string;
  ts: string;
  severity: string;
  job: string;
  code: string;
  message: string;
  context_json: string;
  dedup_key: string;
  run_id: string | null;
  data_date: string | null;
  occurrences: number;
  last_seen: string;
  delivery_state: string;
  delivery_error: string;
  notified_at: string | null;
  chat_id: string;
  message_id: string | null;
  resolved_at: string | null;
  resolved_by_run_id: string | null;
  version: string;
}

function fromRow(r: Row): AlertRecord {
  const n = (v: string | null) => (v === null ? null : Number(v));
  return {
    alertId: r.alert_id,
    ts: Number(r.ts),
    severity: r.severity as Severity,
    job: r.job,
    code: r.code as AlertCode,
    message: r.message,
    contextJson: r.context_json,
    dedupKey: r.dedup_key,
    runId: r.run_id,
    dataDate: r.data_date,
    occurrences: Number(r.occurrences),
    lastSeen: Number(r.last_seen),
    deliveryState: r.delivery_state as DeliveryState,
    deliveryError: r.delivery_error,
    notifiedAt: n(r.notified_at),
    chatId: r.chat_id,
    messageId: n(r.message_id),
    resolvedAt: n(r.resolved_at),
    resolvedByRunId: r.resolved_by_run_id,
    version: Number(r.version),
  };
}

/** The unresolved alert with this dedup key, if any (the newest when several). */
export async function findOpenAlert(db: DbClient, key: string): Promise<AlertRecord | undefined> {
  const rows = await db.query<Row>(
    `${SELECT} WHERE dedup_key = {key:String} AND resolved_at IS NULL ORDER BY ts DESC LIMIT 1`,
    { key },
  );
  return rows[0] ? fromRow(rows[0]) : undefined;
}

/** Unresolved alerts of a job with one of `codes`. */
export async function openAlertsOf(db: DbClient, job: string, codes: AlertCode[]): Promise<AlertRecord[]> {
  const rows = await db.query<Row>(
    `${SELECT} WHERE job = {job:String} AND code IN {codes:Array(String)} AND resolved_at IS NULL ORDER BY ts`,
    { job, codes },
  );
  return rows.map(fromRow);
}

/** Recent alerts, newest first. */
export async function listAlerts(db: DbClient, limit: number): Promise<AlertRecord[]> {
  const rows = await db.query<Row>(`${SELECT} ORDER BY ts DESC, version DESC LIMIT {limit:UInt32}`, {
    limit,
  });
  return rows.map(fromRow);
}

/** One alert by id (its newest version), or undefined. `alert_id` here is the String alias of SELECT. */
export async function findAlert(db: DbClient, alertId: string): Promise<AlertRecord | undefined> {
  const rows = await db.query<Row>(`${SELECT} WHERE alert_id = {id:String} LIMIT 1`, {
    id: alertId,
  });
  return rows[0] ? fromRow(rows[0]) : undefined;
}
