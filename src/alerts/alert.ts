/**
 * Alert vocabulary: codes, severities, and the shapes of a raised problem (a candidate) and of
 * a stored alert (`meta.etl_alerts`, one row per alert_id, newest version wins).
 */
import type { IsoDate } from '../time/dates.js';

/** What kind of problem. */
export type AlertCode = 'RUN_FAILED' | 'ZERO_ROWS' | 'ANOMALY' | 'RECOVERED' | 'MISSED_RUN';
/** How urgent. */
export type Severity = 'info' | 'warning' | 'critical';

/** Severity per code, in one place. */
export const SEVERITY: Readonly<Record<AlertCode, Severity>> = {
  RUN_FAILED: 'critical',
  ZERO_ROWS: 'warning',
  ANOMALY: 'warning',
  RECOVERED: 'info',
  MISSED_RUN: 'warning',
};

/** One finding of the anomaly checks on a mart day. */
export interface AnomalyFinding {
  /** Column of the daily total, e.g. `net_revenue`, `spend`, `tickets_sold`. */
  metric: string;
  /** The day's total (rubles or counts). */
  value: number;
  /** `negative` (below zero) or a departure from the baseline. */
  kind: 'negative' | 'above_baseline' | 'below_baseline';
  /** Median of the trailing days (for baseline findings). */
  median?: number;
  /** Robust z-score (for baseline findings). */
  z?: number;
  /** History days the baseline used. */
  historyDays?: number;
}

/** What the rules found, before dedup and delivery. */
export interface AlertCandidate {
  code: AlertCode;
  job: string;
  /** The MSK business date the problem is about (the window's last day for runs). */
  dataDate: IsoDate | null;
  /** The run that raised it; null for healthcheck findings. */
  runId: string | null;
  /** Normalised problem signature: a new signature is a new alert. */
  signature: string;
  /** Facts for the message. */
  facts: AlertFacts;
}

/** Facts an alert message is rendered from. Times are unix seconds. */
export interface AlertFacts {
  window?: { fromDate: IsoDate; toDate: IsoDate };
  runStartedAt?: number;
  runFinishedAt?: number;
  errMsg?: string;
  rowsWritten?: number;
  table?: string;
  findings?: AnomalyFinding[];
  /** RECOVERED: when the failure was first raised, and its alert. */
  failingSince?: number;
  resolvedAlertIds?: string[];
  /** Healthcheck detail. */
  detail?: string;
  /** MISSED_RUN: the slot that passed without a run, unix seconds. */
  slotAt?: number;
}

/** Delivery state of a stored alert. */
export type DeliveryState = 'pending' | 'delivered' | 'printed' | 'rejected';

/** A stored alert (one version of a `meta.etl_alerts` row). Times are unix seconds. */
export interface AlertRecord {
  alertId: string;
  ts: number;
  severity: Severity;
  job: string;
  code: AlertCode;
  message: string;
  contextJson: string;
  dedupKey: string;
  runId: string | null;
  dataDate: IsoDate | null;
  occurrences: number;
  lastSeen: number;
  deliveryState: DeliveryState;
  deliveryError: string;
  notifiedAt: number | null;
  chatId: string;
  messageId: number | null;
  resolvedAt: number | null;
  resolvedByRunId: string | null;
  /** unix ms; increases with every version. */
  version: number;
}

/** The dedup key: the same code, job, data date and signature are the same problem. */
export function dedupKey(c: Pick<AlertCandidate, 'code' | 'job' | 'dataDate' | 'signature'>): string {
  return [c.code, c.job, c.dataDate ?? '-', c.signature].join('|');
}

/**
 * Normalises an error message into a signature: numbers, ids, dates, times and quoted values
 * are replaced, so "timeout after 30012 ms (run 5f…)" and "timeout after 30020 ms (run 7a…)" are
 * the same problem while a different error is a new one.
 */
export function errorSignature(errMsg: string): string {
  return errMsg
    .toLowerCase()
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')
    .replace(/\d{4}-\d{2}-\d{2}([ t]\d{2}:\d{2}(:\d{2})?)?/g, '<date>')
    .replace(/"[^"]*"|'[^']*'/g, '<v>')
    .replace(/\d+(\.\d+)?/g, '<n>')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 200);
}
