import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../src/clickhouse/db.js';
import { migrate, renderSql } from '../src/clickhouse/migrate.js';
import { silentLogger, tempDir, testConfig } from './helpers/env.js';

const CUSTOMER_COLUMNS: Array<[string, string]> = [
  ['job', 'LowCardinality(String)'],
  ['run_id', 'UUID'],
  ['started_at', 'DateTime'],
  ['finished_at', 'DateTime'],
  ['status', 'LowCardinality(String)'],
  ['rows_written', 'UInt64'],
  ['rows_read', 'UInt64'],
  ['err_msg', 'String'],
  ['from_date', 'Date'],
  ['to_date', 'Date'],
  ['host', 'String'],
  ['version_tag', 'String'],
];

describe('migrations', () => {
  let db: Db;
  const config = testConfig(tempDir());
  beforeAll(async () => {
    db = await openDatabase({ config, logger: silentLogger, owner: 'test' });
  });
  afterAll(async () => {
    await db.close();
  });

  it('applies every file once; a second run is a no-op', async () => {
    const first = await migrate(db, { timezone: config.timezone, appVersion: 'test', logger: silentLogger });
    expect(first.applied.length).toBeGreaterThanOrEqual(4);
    const second = await migrate(db, { timezone: config.timezone, appVersion: 'test', logger: silentLogger });
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied).toBe(first.applied.length);
    const ledger = await db.query<{ n: string }>('SELECT count() AS n FROM meta.schema_migrations FINAL');
    expect(Number(ledger[0]?.n)).toBe(first.applied.length);
  });

  it("keeps the customer's twelve etl_runs columns, types and order before any appended column", async () => {
    const cols = await db.query<{ name: string; type: string }>(
      "SELECT name, type FROM system.columns WHERE database = 'meta' AND table = 'etl_runs' ORDER BY position",
    );
    expect(cols.slice(0, 12).map((c) => [c.name, c.type])).toEqual(CUSTOMER_COLUMNS);
    expect(cols.map((c) => c.name)).toContain('trigger');
    const [engine] = await db.query<{ engine: string; sorting_key: string; partition_key: string }>(
      "SELECT engine, sorting_key, partition_key FROM system.tables WHERE database = 'meta' AND name = 'etl_runs'",
    );
    expect(engine).toEqual({
      engine: 'MergeTree',
      sorting_key: 'started_at, job',
      partition_key: 'toYYYYMM(started_at)',
    });
  });

  it('runs the runbook queries unchanged', async () => {
    await db.query(
      'SELECT job, started_at, finished_at, status, rows_written, err_msg FROM meta.etl_runs ORDER BY started_at DESC LIMIT 20',
    );
    await db.query('SELECT count() FROM zakaz.stg_qtickets_sales WHERE event_date = today() - 1');
    await db.query('SELECT count() FROM zakaz.stg_vk_ads_daily WHERE stat_date = today() - 1');
    const quality = await db.query<Record<string, string>>('SELECT * FROM meta.v_quality_last_day');
    expect(quality).toHaveLength(1);
    expect(Object.keys(quality[0] ?? {})).toEqual(
      expect.arrayContaining(['day', 'sales_rows', 'sales_revenue', 'vk_rows', 'vk_spend']),
    );
  });

  it('seeds city aliases with Russian spellings and transliterations', async () => {
    const rows = await db.query<{ alias: string; city: string }>(
      "SELECT alias, city FROM zakaz.dim_city_alias FINAL WHERE alias IN ('мск', 'msk', 'moscow', 'спб', 'spb', 'piter', 'питер')",
    );
    const map = Object.fromEntries(rows.map((r) => [r.alias, r.city]));
    expect(map).toEqual({
      мск: 'Москва',
      msk: 'Москва',
      moscow: 'Москва',
      спб: 'Санкт-Петербург',
      spb: 'Санкт-Петербург',
      piter: 'Санкт-Петербург',
      питер: 'Санкт-Петербург',
    });
  });

  it('renders cluster DDL with ON CLUSTER and Replicated engines', () => {
    const sql =
      'CREATE TABLE t {{ON_CLUSTER}} (a UInt8) ENGINE = {{ENGINE:ReplacingMergeTree}}(v) -- {{TIMEZONE}}';
    expect(renderSql(sql, { cluster: 'zakaz', timezone: 'Europe/Moscow' })).toBe(
      "CREATE TABLE t ON CLUSTER 'zakaz' (a UInt8) ENGINE = ReplicatedReplacingMergeTree(v) -- Europe/Moscow",
    );
    expect(renderSql(sql, { cluster: undefined, timezone: 'UTC' })).toBe(
      'CREATE TABLE t  (a UInt8) ENGINE = ReplacingMergeTree(v) -- UTC',
    );
  });
});
