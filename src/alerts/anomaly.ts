/**
 * Anomaly checks on the marts' daily totals: negative money or counts, and a day far from its
 * trailing baseline by robust statistics (median and MAD, so one bad day in the history does not
 * move the baseline). Direction-aware: a spend spike and a sales drop matter, a sales spike does
 * not. Small absolute changes are ignored.
 */
import type { Config } from '../config/loadConfig.js';
import type { DbClient } from '../clickhouse/db.js';
import { addDays, eachDay, type DateWindow, type IsoDate } from '../time/dates.js';
import type { AnomalyFinding } from './alert.js';

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Median absolute deviation around the median. */
export function mad(values: readonly number[]): number {
  const m = median(values);
  return median(values.map((v) => Math.abs(v - m)));
}

/** Which departures from the baseline matter for a metric. */
export type Direction = 'up' | 'down' | 'both';

/** Thresholds of the baseline test (from `ANOMALY_*`). */
export type BaselineOptions = Pick<Config['alerts'], 'zThreshold' | 'minChangePct' | 'minHistoryDays'>;

/**
 * Judges one day's `value` against `history` (the trailing days' values, without the day).
 * @returns a finding, or undefined when the history is too short or the day is ordinary.
 */
export function judgeAgainstBaseline(
  metric: string,
  value: number,
  history: readonly number[],
  direction: Direction,
  options: BaselineOptions,
): AnomalyFinding | undefined {
  if (history.length < options.minHistoryDays) return undefined;
  const m = median(history);
  const d = mad(history);
  const change = value - m;
  if (Math.abs(change) <= (Math.abs(m) * options.minChangePct) / 100) return undefined;
  if ((direction === 'up' && change < 0) || (direction === 'down' && change > 0)) return undefined;
  // A flat history (MAD 0) makes any change infinite; fall back to 1% of the median as the scale.
  const scale = d > 0 ? d : Math.max(Math.abs(m) * 0.01, 1e-9);
  const z = (0.6745 * change) / scale;
  if (Math.abs(z) < options.zThreshold) return undefined;
  return {
    metric,
    value,
    kind: change > 0 ? 'above_baseline' : 'below_baseline',
    median: m,
    z: Math.round(z * 10) / 10,
    historyDays: history.length,
  };
}

/** A mart whose daily totals are checked. */
export interface MartCheck {
  job: 'build_dm_vk' | 'build_dm_sales';
  table: string;
  dateColumn: string;
  /** Daily totals: column alias → SQL aggregate over the mart's rows of a day. */
  totals: Record<string, string>;
  /** Metrics that must never be negative. */
  nonNegative: string[];
  /** Baseline metrics and the direction that matters. */
  baseline: Record<string, Direction>;
}

/** The two marts' checks. */
export const MART_CHECKS: readonly MartCheck[] = [
  {
    job: 'build_dm_sales',
    table: 'zakaz.dm_sales_daily',
    dateColumn: 'sale_date',
    totals: {
      tickets_sold: 'sum(tickets_sold)',
      revenue: 'sum(revenue)',
      refunds_amount: 'sum(refunds_amount)',
      net_revenue: 'sum(net_revenue)',
      negative_rows: 'countIf(revenue < 0 OR refunds_amount < 0)',
    },
    nonNegative: ['net_revenue', 'revenue', 'refunds_amount', 'negative_rows'],
    baseline: { tickets_sold: 'down', revenue: 'down' },
  },
  {
    job: 'build_dm_vk',
    table: 'zakaz.dm_vk_ads_daily',
    dateColumn: 'stat_date',
    totals: { spend: 'sum(spend)', clicks: 'sum(clicks)', negative_rows: 'countIf(spend < 0)' },
    nonNegative: ['spend', 'negative_rows'],
    baseline: { spend: 'both' },
  },
];

/**
 * Findings per day of `window` for one mart (days without findings are absent).
 * Reads the window plus `baselineDays` before it in one query.
 */
export async function findAnomalies(
  db: DbClient,
  check: MartCheck,
  window: DateWindow,
  options: Config['alerts'],
): Promise<Map<IsoDate, AnomalyFinding[]>> {
  const from = addDays(window.fromDate, -options.baselineDays);
  const columns = Object.entries(check.totals)
    // Prefixed aliases: an alias named like a column (spend) would shadow it in the other aggregates.
    .map(([alias, expr]) => `toFloat64(${expr}) AS m_${alias}`)
    .join(', ');
  const rows = await db.query<Record<string, number | string>>(
    `SELECT toString(${check.dateColumn}) AS d, ${columns}
     FROM ${check.table} WHERE ${check.dateColumn} BETWEEN {f:Date} AND {t:Date}
     GROUP BY ${check.dateColumn} ORDER BY ${check.dateColumn}`,
    { f: from, t: window.toDate },
  );
  const byDay = new Map(rows.map((r) => [String(r.d), r]));
  const out = new Map<IsoDate, AnomalyFinding[]>();
  for (const day of eachDay(window)) {
    const row = byDay.get(day);
    if (!row) continue;
    const findings: AnomalyFinding[] = [];
    for (const metric of check.nonNegative) {
      const value = Number(row[`m_${metric}`]);
      if (value < 0 || (metric === 'negative_rows' && value > 0))
        findings.push({ metric, value, kind: 'negative' });
    }
    for (const [metric, direction] of Object.entries(check.baseline)) {
      const history: number[] = [];
      for (let i = options.baselineDays; i >= 1; i--) {
        const past = byDay.get(addDays(day, -i));
        if (past) history.push(Number(past[`m_${metric}`]));
      }
      const finding = judgeAgainstBaseline(metric, Number(row[`m_${metric}`]), history, direction, options);
      if (finding) findings.push(finding);
    }
    if (findings.length > 0) out.set(day, findings);
  }
  return out;
}
