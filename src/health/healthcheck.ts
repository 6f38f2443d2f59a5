/**
 * The healthcheck (`etl health`, later `/health`) for one MSK business date, by default
 * yesterday: both marts have rows, staging has rows and was loaded recently, no negative values
 * or baseline anomalies in the marts, and the latest run of every daily job succeeded. Each
 * failed check can become an alert (`--notify`).
 */
import type { Config } from '../config/loadConfig.js';
import type { DbClient } from '../clickhouse/db.js';
import type { AlertCandidate } from '../alerts/alert.js';
import { findAnomalies, MART_CHECKS } from '../alerts/anomaly.js';
import { STEP_JOBS } from '../runner/job.js';
import { formatInstant, type IsoDate } from '../time/dates.js';

/** One check's outcome. */
export interface HealthCheckResult {
  /** Stable identifier, e.g. `mart_rows:zakaz.dm_sales_daily`. */
  name: string;
  ok: boolean;
  /** Human detail: counts, ages, findings. */
  detail: string;
  /** The alert this failure raises with `--notify`. */
  alert?: AlertCandidate;
}

/** The healthcheck report. */
export interface HealthReport {
  date: IsoDate;
  ok: boolean;
  checks: HealthCheckResult[];
}

/** Detail texts: English for the CLI and logs, the bot language in the chat. */
const DETAIL = {
  en: {
    rows: (n: number, date: string) => `${n} rows for ${date}`,
    lastLoad: (hours: number | undefined) =>
      `last load ${hours === undefined ? 'never' : `${hours.toFixed(1)} h ago`}`,
    clean: 'no negative values, within the baseline',
    neverRan: 'never ran',
    finished: (status: string, at: string) => `${status} (finished ${at})`,
  },
  ru: {
    rows: (n: number, date: string) => `строк за ${date}: ${n}`,
    lastLoad: (hours: number | undefined) =>
      hours === undefined
        ? 'загрузок не было'
        : `последняя загрузка ${hours.toFixed(1).replace('.', ',')} ч назад`,
    clean: 'отрицательных значений нет, в пределах базовой линии',
    neverRan: 'ещё не запускалась',
    finished: (status: string, at: string) => `${status === 'ok' ? 'успешно' : 'ошибка'} (завершён ${at})`,
  },
} as const;

/** Staging older than this is stale, hours. */
const STAGING_MAX_AGE_HOURS = 36;

const TABLES: Array<{ job: string; table: string; column: string; kind: 'mart' | 'staging' }> = [
  { job: 'build_dm_sales', table: 'zakaz.dm_sales_daily', column: 'sale_date', kind: 'mart' },
  { job: 'build_dm_vk', table: 'zakaz.dm_vk_ads_daily', column: 'stat_date', kind: 'mart' },
  { job: 'qtickets_fetch', table: 'zakaz.stg_qtickets_sales', column: 'sale_date', kind: 'staging' },
  { job: 'vk_fetch', table: 'zakaz.stg_vk_ads_daily', column: 'stat_date', kind: 'staging' },
];

/**
 * Runs every check for `date`.
 * @param nowMs the current time, unix ms (staging age).
 * @param language of the human `detail` texts: `en` (CLI, logs, alerts) or the bot's `ru`.
 * @throws DatabaseError when ClickHouse cannot be read.
 */
export async function runHealthcheck(
  db: DbClient,
  config: Config,
  date: IsoDate,
  nowMs: number,
  language: 'en' | 'ru' = 'en',
): Promise<HealthReport> {
  const d = DETAIL[language];
  const checks: HealthCheckResult[] = [];
  for (const t of TABLES) {
    const [row] = await db.query<{ n: string; loaded: string | null }>(
      t.kind === 'staging'
        ? `SELECT countIf(${t.column} = {d:Date}) AS n, toString(toUnixTimestamp(max(loaded_at))) AS loaded FROM ${t.table}`
        : `SELECT count() AS n, NULL AS loaded FROM ${t.table} WHERE ${t.column} = {d:Date}`,
      { d: date },
    );
    const rows = Number(row?.n ?? 0);
    const ageHours =
      row?.loaded && Number(row.loaded) > 0 ? (nowMs / 1000 - Number(row.loaded)) / 3600 : Infinity;
    const fresh = t.kind === 'mart' || ageHours <= STAGING_MAX_AGE_HOURS;
    const ok = rows > 0 && fresh;
    const detail =
      t.kind === 'mart'
        ? d.rows(rows, date)
        : `${d.rows(rows, date)}; ${d.lastLoad(Number.isFinite(ageHours) ? ageHours : undefined)}`;
    checks.push({
      name: `${t.kind}_rows:${t.table}`,
      ok,
      detail,
      ...(ok
        ? {}
        : {
            alert: {
              code: 'ZERO_ROWS',
              job: t.job,
              dataDate: date,
              runId: null,
              signature: t.table,
              facts: { table: t.table, rowsWritten: rows, detail: `${t.table}: ${detail}` },
            } satisfies AlertCandidate,
          }),
    });
  }
  for (const mart of MART_CHECKS) {
    const findings =
      (await findAnomalies(db, mart, { fromDate: date, toDate: date }, config.alerts)).get(date) ?? [];
    checks.push({
      name: `anomalies:${mart.table}`,
      ok: findings.length === 0,
      detail:
        findings.length === 0
          ? d.clean
          : findings.map((f) => `${f.metric}=${f.value} (${f.kind})`).join('; '),
      ...(findings.length === 0
        ? {}
        : {
            alert: {
              code: 'ANOMALY',
              job: mart.job,
              dataDate: date,
              runId: null,
              signature: 'mart',
              facts: { window: { fromDate: date, toDate: date }, table: mart.table, findings },
            } satisfies AlertCandidate,
          }),
    });
  }
  const latest = await db.query<{ job: string; status: string; err_msg: string; finished: string }>(
    `SELECT job, argMax(status, started_ms) AS status, argMax(err_msg, started_ms) AS err_msg,
            toUnixTimestamp(max(finished_at)) AS finished
     FROM meta.etl_runs WHERE job IN {jobs:Array(String)} GROUP BY job`,
    { jobs: [...STEP_JOBS] },
  );
  for (const job of STEP_JOBS) {
    const run = latest.find((r) => r.job === job);
    checks.push({
      name: `last_run:${job}`,
      ok: run?.status === 'ok',
      detail: run
        ? `${d.finished(run.status, formatInstant(Number(run.finished), config.timezone))}${run.status === 'ok' ? '' : `: ${run.err_msg}`}`
        : d.neverRan,
    });
  }
  return { date, ok: checks.every((c) => c.ok), checks };
}
