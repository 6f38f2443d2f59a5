/**
 * The DataLens views (sql/migrations/0007_datalens_views.sql) on a demo-like history: runs
 * recorded by the real runner against the sandbox upstreams (single runs, a chunked backfill,
 * upstream outages, a failed backfill) plus a few rows as the customer's earlier loader wrote
 * them (the twelve original columns only). Every view value is compared with one computed here
 * from the rows of meta.etl_runs, read directly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/clickhouse/migrate.js';
import type { RunRecord } from '../src/runner/runRecord.js';
import { addDays, businessDate } from '../src/time/dates.js';
import { startSandboxApp, type SandboxApp } from './helpers/app.js';
import { silentLogger, tempDir } from './helpers/env.js';

const ZONE = 'Europe/Moscow';
const today = businessDate(new Date(), ZONE);
/** Day `i` of the demo history, well inside VK's 366-day statistics horizon. */
const day = (i: number) => addDays(today, -30 + i);

/** Rows as the customer's earlier loader wrote them: no duration_ms, trigger, parent, started_ms. */
const LEGACY_ROWS = [
  {
    // 21:30 UTC is 00:30 the next day in Moscow: run_date 2024-03-10, not 03-09.
    job: 'vk_fetch',
    run_id: '00000000-0000-4000-8000-000000000001',
    started_at: Date.UTC(2024, 2, 9, 21, 30, 0) / 1000,
    finished_at: Date.UTC(2024, 2, 9, 21, 31, 35) / 1000,
    status: 'ok',
    rows_written: '100',
    rows_read: '120',
    err_msg: '',
    from_date: '2024-03-07',
    to_date: '2024-03-09',
    host: 'old-etl',
    version_tag: 'abc123',
  },
  {
    // 23:59:59 in Moscow: still 2024-03-09.
    job: 'vk_fetch',
    run_id: '00000000-0000-4000-8000-000000000002',
    started_at: Date.UTC(2024, 2, 9, 20, 59, 59) / 1000,
    finished_at: Date.UTC(2024, 2, 9, 21, 0, 3) / 1000,
    status: 'error',
    rows_written: '0',
    rows_read: '0',
    err_msg: 'VK Ads answered 503',
    from_date: '2024-03-07',
    to_date: '2024-03-09',
    host: 'old-etl',
    version_tag: 'abc123',
  },
  {
    // Finished within its start second: 0 s.
    job: 'vk_fetch',
    run_id: '00000000-0000-4000-8000-000000000003',
    started_at: Date.UTC(2024, 2, 10, 6, 0, 0) / 1000,
    finished_at: Date.UTC(2024, 2, 10, 6, 0, 0) / 1000,
    status: 'ok',
    rows_written: '7',
    rows_read: '7',
    err_msg: '',
    from_date: '2024-03-10',
    to_date: '2024-03-10',
    host: 'old-etl',
    version_tag: 'abc123',
  },
  {
    // The clock stepped back during the run: finished before it started; 0 s, never negative.
    job: 'build_dm_sales',
    run_id: '00000000-0000-4000-8000-000000000004',
    started_at: Date.UTC(2024, 2, 10, 5, 0, 10) / 1000,
    finished_at: Date.UTC(2024, 2, 10, 5, 0, 2) / 1000,
    status: 'ok',
    rows_written: '30',
    rows_read: '40',
    err_msg: '',
    from_date: '2024-03-08',
    to_date: '2024-03-10',
    host: 'old-etl',
    version_tag: 'abc123',
  },
];

const RUN_COLUMNS: Array<[string, string]> = [
  ['job', 'LowCardinality(String)'],
  ['run_id', 'UUID'],
  ['status', 'LowCardinality(String)'],
  ['is_error', 'UInt8'],
  ['trigger', 'LowCardinality(String)'],
  ['actor', 'String'],
  ['host', 'String'],
  ['version_tag', 'String'],
  ['parent_run_id', 'Nullable(UUID)'],
  ['is_step', 'UInt8'],
  ['started_at', `DateTime('${ZONE}')`],
  ['finished_at', `DateTime('${ZONE}')`],
  ['started_ms', 'UInt64'],
  ['run_date', 'Date'],
  ['data_date', 'Date'],
  ['from_date', 'Date'],
  ['to_date', 'Date'],
  ['window_days', 'UInt32'],
  ['duration_s', 'Float64'],
  ['rows_read', 'UInt64'],
  ['rows_written', 'UInt64'],
  ['err_msg', 'String'],
];

const DAILY_COLUMNS: Array<[string, string]> = [
  ['run_date', 'Date'],
  ['job', 'LowCardinality(String)'],
  ['runs', 'UInt64'],
  ['errors', 'UInt64'],
  ['error_rate', 'Float64'],
  ['p50_duration_s', 'Float64'],
  ['p95_duration_s', 'Float64'],
  ['max_duration_s', 'Float64'],
  ['rows_written', 'UInt64'],
  ['rows_read', 'UInt64'],
  ['last_status', 'String'], // argMax drops LowCardinality
  ['last_finished_at', `DateTime('${ZONE}')`],
];

/** A row of meta.etl_runs as read directly (64-bit integers arrive as strings). */
interface RawRun {
  job: string;
  id: string;
  status: string;
  trigger: string;
  actor: string;
  host: string;
  version_tag: string;
  parent: string | null;
  started_unix: number;
  finished_unix: number;
  started_ms: string;
  from_d: string;
  to_d: string;
  duration_ms: string;
  rows_read: string;
  rows_written: string;
  err_msg: string;
}

type ViewRow = Record<string, unknown>;

let s: SandboxApp;
const records: RunRecord[] = [];

async function run(
  job: string,
  from: number,
  to: number,
  backfill?: { chunkDays: number },
): Promise<RunRecord> {
  const record = await s.app.runner.run({
    job,
    window: { from: day(from), to: day(to) },
    trigger: 'cli',
    actor: 'analyst',
    ...(backfill ? { backfill } : {}),
  });
  records.push(record);
  return record;
}

beforeAll(async () => {
  s = await startSandboxApp(tempDir('zakaz-etl-datalens-'));
  // A backfill in chunks of two days: 3 chunks × 4 steps under one backfill_all parent.
  expect((await run('backfill_all', 0, 5, { chunkDays: 2 })).status).toBe('ok');
  // The nightly jobs over the default-sized window, twice for the VK side (a rerun).
  for (const job of [
    'vk_fetch',
    'qtickets_fetch',
    'build_dm_vk',
    'build_dm_sales',
    'vk_fetch',
    'build_dm_vk',
  ]) {
    expect((await run(job, 6, 8)).status).toBe('ok');
  }
  // VK Ads down: two failing fetches and a backfill that stops at its first step.
  s.vk.faults.failAll = {
    status: 503,
    body: { error: { code: 'ERR_INTERNAL', message: 'Service unavailable' } },
  };
  try {
    expect((await run('vk_fetch', 9, 9)).status).toBe('error');
    expect((await run('vk_fetch', 9, 10)).status).toBe('error');
    expect((await run('backfill_all', 9, 10)).status).toBe('error');
  } finally {
    s.vk.faults.reset();
  }
  // QTickets down, then back.
  s.qt.faults.outage = true;
  try {
    expect((await run('qtickets_fetch', 9, 10)).status).toBe('error');
  } finally {
    s.qt.faults.outage = false;
  }
  expect((await run('qtickets_fetch', 9, 10)).status).toBe('ok');
  expect((await run('vk_fetch', 9, 10)).status).toBe('ok');
  await s.app.db.insert('meta.etl_runs', LEGACY_ROWS);
}, 300_000);

afterAll(async () => {
  await s?.close();
});

async function rawRuns(): Promise<RawRun[]> {
  // Aliases differ from the column names on purpose (see the migration's header).
  return s.app.db.query<RawRun>(
    `SELECT job, toString(run_id) AS id, status, trigger, actor, host, version_tag,
            toString(parent_run_id) AS parent, toUnixTimestamp(started_at) AS started_unix,
            toUnixTimestamp(finished_at) AS finished_unix, started_ms, toString(from_date) AS from_d,
            toString(to_date) AS to_d, duration_ms, rows_read, rows_written, err_msg
     FROM meta.etl_runs`,
  );
}

const wallClockFormat = new Intl.DateTimeFormat('en-CA', {
  timeZone: ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** `YYYY-MM-DD HH:MM:SS` of a unix second on the Moscow wall clock (ClickHouse's DateTime text). */
function wallClock(unix: number): string {
  const p = Object.fromEntries(
    wallClockFormat.formatToParts(new Date(unix * 1000)).map((x) => [x.type, x.value]),
  );
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

/** The definition of quantileExactInclusive (ClickHouse QuantileExactInclusive::getFloat). */
function quantileInclusive(values: number[], level: number): number {
  const a = [...values].sort((x, y) => x - y);
  const h = level * (a.length - 1) + 1;
  const n = Math.floor(h);
  if (n >= a.length) return a[a.length - 1]!;
  if (n < 1) return a[0]!;
  return a[n - 1]! + (h - n) * (a[n]! - a[n - 1]!);
}

/** meta.v_etl_runs as it should read, computed from the raw rows. */
function expectedRun(r: RawRun): ViewRow {
  const durationMs = Number(r.duration_ms);
  const windowDays = (Date.parse(r.to_d) - Date.parse(r.from_d)) / 86_400_000 + 1;
  return {
    job: r.job,
    run_id: r.id,
    status: r.status,
    is_error: r.status === 'ok' ? 0 : 1,
    trigger: r.trigger,
    actor: r.actor,
    host: r.host,
    version_tag: r.version_tag,
    parent_run_id: r.parent,
    is_step: r.parent === null ? 0 : 1,
    started_at: wallClock(r.started_unix),
    finished_at: wallClock(r.finished_unix),
    started_ms: r.started_ms,
    run_date: wallClock(r.started_unix).slice(0, 10),
    data_date: r.to_d,
    from_date: r.from_d,
    to_date: r.to_d,
    window_days: windowDays,
    duration_s: durationMs > 0 ? durationMs / 1000 : Math.max(0, r.finished_unix - r.started_unix),
    rows_read: r.rows_read,
    rows_written: r.rows_written,
    err_msg: r.err_msg,
  };
}

/** meta.v_etl_runs_daily as it should read, keyed `run_date|job`. */
function expectedDaily(raw: RawRun[]): Map<string, ViewRow> {
  const groups = new Map<string, RawRun[]>();
  for (const r of raw) {
    const key = `${wallClock(r.started_unix).slice(0, 10)}|${r.job}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const out = new Map<string, ViewRow>();
  for (const [key, runs] of groups) {
    const durations = runs.map((r) => expectedRun(r).duration_s as number);
    const errors = runs.filter((r) => r.status !== 'ok').length;
    const last = [...runs].sort(
      (a, b) => Number(BigInt(b.started_ms) - BigInt(a.started_ms)) || b.finished_unix - a.finished_unix,
    )[0]!;
    const [runDate, job] = key.split('|');
    out.set(key, {
      run_date: runDate,
      job,
      runs: String(runs.length),
      errors: String(errors),
      error_rate: expect.closeTo(errors / runs.length, 12),
      p50_duration_s: expect.closeTo(quantileInclusive(durations, 0.5), 9),
      p95_duration_s: expect.closeTo(quantileInclusive(durations, 0.95), 9),
      max_duration_s: Math.max(...durations),
      rows_written: String(runs.reduce((sum, r) => sum + BigInt(r.rows_written), 0n)),
      rows_read: String(runs.reduce((sum, r) => sum + BigInt(r.rows_read), 0n)),
      last_status: last.status,
      last_finished_at: wallClock(last.finished_unix),
    });
  }
  return out;
}

async function viewRuns(settings = ''): Promise<ViewRow[]> {
  return s.app.db.query<ViewRow>(`SELECT * FROM meta.v_etl_runs ${settings}`);
}

/** meta.v_etl_runs in a fixed order, optionally under another session time zone. */
async function viewRunsOrdered(sessionZone?: string): Promise<ViewRow[]> {
  const settings = sessionZone === undefined ? '' : `SETTINGS session_timezone = '${sessionZone}'`;
  return viewRuns(`ORDER BY toString(run_id) ${settings}`);
}

async function viewDaily(settings = ''): Promise<ViewRow[]> {
  return s.app.db.query<ViewRow>(`SELECT * FROM meta.v_etl_runs_daily ORDER BY run_date, job ${settings}`);
}

describe('meta.v_etl_runs', () => {
  it('has the documented columns and types', async () => {
    const cols = await s.app.db.query<{ name: string; type: string }>(
      "SELECT name, type FROM system.columns WHERE database = 'meta' AND table = 'v_etl_runs' ORDER BY position",
    );
    expect(cols.map((c) => [c.name, c.type])).toEqual(RUN_COLUMNS);
  });

  it('shows every run with the values computed from meta.etl_runs', async () => {
    const raw = await rawRuns();
    // Backfill 1 + 12, nightly 6, failing 5 (2 vk_fetch, a backfill and its step, qtickets_fetch),
    // recoveries 2, legacy 4.
    expect(raw).toHaveLength(13 + 6 + 5 + 2 + LEGACY_ROWS.length);
    const view = await viewRuns();
    const byId = new Map(view.map((v) => [v.run_id as string, v]));
    expect(byId.size).toBe(raw.length);
    for (const r of raw) expect(byId.get(r.id), r.id).toEqual(expectedRun(r));
  });

  it('gives the runner its own durations back, in seconds', async () => {
    const view = new Map((await viewRuns()).map((v) => [v.run_id as string, v]));
    expect(records.length).toBeGreaterThan(10);
    for (const record of records) {
      expect(record.durationMs).toBeGreaterThan(0);
      expect(view.get(record.runId)).toMatchObject({
        duration_s: record.durationMs / 1000,
        status: record.status,
        is_error: record.status === 'ok' ? 0 : 1,
        is_step: record.parentRunId === null ? 0 : 1,
        rows_written: String(record.rowsWritten),
        data_date: record.toDate,
        trigger: 'cli',
        actor: 'analyst',
      });
    }
    // The backfill's steps point at their parent; the failed backfill ran (and failed) one step.
    const parents = records.filter((r) => r.job === 'backfill_all');
    const steps = [...view.values()].filter((v) => v.is_step === 1);
    expect(steps.filter((v) => v.parent_run_id === parents[0]!.runId)).toHaveLength(12);
    expect(steps.filter((v) => v.parent_run_id === parents[1]!.runId).map((v) => [v.job, v.status])).toEqual([
      ['vk_fetch', 'error'],
    ]);
    expect(view.get(parents[1]!.runId)?.err_msg).toMatch(/step 1\/4 vk_fetch/);
  });

  it('keeps the time zone fixed, whatever the session zone, and falls back to whole seconds for old rows', async () => {
    const legacy = (
      await viewRuns("WHERE host = 'old-etl' ORDER BY toString(run_id) SETTINGS session_timezone = 'UTC'")
    ).map((v) => [v.run_id, v.started_at, v.run_date, v.duration_s, v.window_days, v.is_step, v.trigger]);
    expect(legacy).toEqual([
      ['00000000-0000-4000-8000-000000000001', '2024-03-10 00:30:00', '2024-03-10', 95, 3, 0, ''],
      ['00000000-0000-4000-8000-000000000002', '2024-03-09 23:59:59', '2024-03-09', 4, 3, 0, ''],
      ['00000000-0000-4000-8000-000000000003', '2024-03-10 09:00:00', '2024-03-10', 0, 1, 0, ''],
      ['00000000-0000-4000-8000-000000000004', '2024-03-10 08:00:10', '2024-03-10', 0, 3, 0, ''],
    ]);
    expect(await viewRunsOrdered('America/New_York')).toEqual(await viewRunsOrdered());
  });
});

describe('meta.v_etl_runs_daily', () => {
  it('has the documented columns and types', async () => {
    const cols = await s.app.db.query<{ name: string; type: string }>(
      "SELECT name, type FROM system.columns WHERE database = 'meta' AND table = 'v_etl_runs_daily' ORDER BY position",
    );
    expect(cols.map((c) => [c.name, c.type])).toEqual(DAILY_COLUMNS);
  });

  it('matches runs, errors, error rates, exact p50/p95, rows and last status computed from meta.etl_runs', async () => {
    const raw = await rawRuns();
    const expected = expectedDaily(raw);
    const view = await viewDaily();
    expect(view.map((v) => `${String(v.run_date)}|${String(v.job)}`).sort()).toEqual(
      [...expected.keys()].sort(),
    );
    for (const v of view) {
      expect(v, `${String(v.run_date)} ${String(v.job)}`).toEqual(
        expected.get(`${String(v.run_date)}|${String(v.job)}`),
      );
      expect(v.error_rate).toBeGreaterThanOrEqual(0);
      expect(v.error_rate).toBeLessThanOrEqual(1);
    }
    // Every run counted once, under its own job (backfill parents under backfill_all).
    expect(view.reduce((n, v) => n + Number(v.runs), 0)).toBe(raw.length);
  });

  it('counts the scenario as a dashboard user would read it', async () => {
    const rows = await viewDaily();
    // Today's rows, summed over the day(s) the runs started on (a test running over midnight spans two).
    const recent = rows.filter((v) => String(v.run_date) >= addDays(today, -1));
    const sumOf = (job: string, field: string) =>
      recent.filter((v) => v.job === job).reduce((n, v) => n + Number(v[field]), 0);
    expect([sumOf('backfill_all', 'runs'), sumOf('backfill_all', 'errors')]).toEqual([2, 1]);
    // vk_fetch: 3 backfill steps + 2 nightly + 2 failing + 1 failing step + 1 recovery.
    expect([sumOf('vk_fetch', 'runs'), sumOf('vk_fetch', 'errors')]).toEqual([9, 3]);
    expect([sumOf('qtickets_fetch', 'runs'), sumOf('qtickets_fetch', 'errors')]).toEqual([6, 1]);
    expect([sumOf('build_dm_sales', 'runs'), sumOf('build_dm_sales', 'errors')]).toEqual([4, 0]);
    // The ok backfill's rows are the sums of its steps' rows.
    const parent = records.find((r) => r.job === 'backfill_all' && r.status === 'ok')!;
    const stepsRows = (await viewRuns())
      .filter((v) => v.parent_run_id === parent.runId)
      .reduce((n, v) => n + Number(v.rows_written), 0);
    expect(parent.rowsWritten).toBe(stepsRows);
    expect(stepsRows).toBeGreaterThan(0);

    // Hand-checked legacy days (Moscow dates): 00:30 MSK counts on 03-10, 23:59:59 MSK on 03-09.
    const legacy = rows
      .filter((v) => String(v.run_date) < '2025-01-01')
      .map((v) => [
        v.run_date,
        v.job,
        v.runs,
        v.errors,
        v.error_rate,
        v.p50_duration_s,
        v.p95_duration_s,
        v.last_status,
        v.last_finished_at,
      ]);
    expect(legacy).toEqual([
      ['2024-03-09', 'vk_fetch', '1', '1', 1, 4, 4, 'error', '2024-03-10 00:00:03'],
      ['2024-03-10', 'build_dm_sales', '1', '0', 0, 0, 0, 'ok', '2024-03-10 08:00:02'],
      // durations 95 and 0: the median is their mean, p95 = 0 + 0.95 × 95.
      ['2024-03-10', 'vk_fetch', '2', '0', 0, 47.5, expect.closeTo(90.25, 9), 'ok', '2024-03-10 09:00:00'],
    ]);
  });
});

describe('migration 0007', () => {
  const options = () => ({ timezone: s.config.timezone, appVersion: 'test', logger: silentLogger });

  it('is a no-op on a database that has it', async () => {
    const again = await migrate(s.app.db, options());
    expect(again.applied).toEqual([]);
  });

  it('applies on a database migrated by the previous release (with runs in it), and again over existing views', async () => {
    const beforeRuns = await viewRunsOrdered();
    const beforeDaily = await viewDaily();
    const forget = () => s.app.db.command("DELETE FROM meta.schema_migrations WHERE version = '0007'");

    // As the previous release left it: ledger up to 0006, no views.
    await forget();
    await s.app.db.command('DROP VIEW meta.v_etl_runs_daily');
    await s.app.db.command('DROP VIEW meta.v_etl_runs');
    expect((await migrate(s.app.db, options())).applied).toEqual(['0007_datalens_views.sql']);
    expect(await viewRunsOrdered()).toEqual(beforeRuns);
    expect(await viewDaily()).toEqual(beforeDaily);

    // A half-applied file (views there, ledger row missing) is simply applied again.
    await forget();
    expect((await migrate(s.app.db, options())).applied).toEqual(['0007_datalens_views.sql']);
    expect(await viewDaily()).toEqual(beforeDaily);
    const [ledger] = await s.app.db.query<{ n: string }>(
      "SELECT count() AS n FROM meta.schema_migrations FINAL WHERE version = '0007'",
    );
    expect(ledger?.n).toBe('1');
    expect((await migrate(s.app.db, options())).applied).toEqual([]);
  });
});
