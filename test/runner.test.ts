/**
 * The runner and the four daily jobs against the sandbox upstreams and a real embedded
 * ClickHouse: run records, retries, token reuse, failures, idempotency, locks, timeouts, spool.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db, DbClient } from '../src/clickhouse/db.js';
import { JobBusyError } from '../src/errors.js';
import os from 'node:os';
import { writeHeartbeat, type HeartbeatRun } from '../src/runner/heartbeat.js';
import { flushSpool, reapInterrupted } from '../src/runner/recovery.js';
import { listRuns } from '../src/runner/registry.js';
import { createRunner } from '../src/runner/runner.js';
import { readSpool, spoolRun } from '../src/runner/spool.js';
import { createSources } from '../src/app/sources.js';
import { addDays, businessDate } from '../src/time/dates.js';
import { startSandboxApp, type SandboxApp } from './helpers/app.js';
import { silentLogger, tempDir } from './helpers/env.js';

let s: SandboxApp;
const yesterday = addDays(businessDate(new Date(), 'Europe/Moscow'), -1);
const window = { from: addDays(yesterday, -6), to: yesterday };

beforeAll(async () => {
  s = await startSandboxApp(tempDir());
});
afterAll(async () => {
  await s.close();
});

function heartbeatOf(r: { runId: string; job: string; startedAt: number }): HeartbeatRun {
  return {
    runId: r.runId,
    job: r.job,
    startedAt: r.startedAt,
    fromDate: window.from,
    toDate: window.to,
    host: os.hostname(),
    pid: process.pid,
    versionTag: 'test',
    trigger: 'cli',
    actor: '',
    parentRunId: null,
    procIdentity: '',
  };
}

function reap() {
  return reapInterrupted(s.app.db, {
    host: os.hostname(),
    staleMs: 60_000,
    now: Date.now,
    timezone: 'Europe/Moscow',
    logger: silentLogger,
  });
}

async function contents(
  db: DbClient,
  table: string,
  exclude = ['run_id', 'loaded_at', 'built_at'],
): Promise<string[]> {
  const cols = (
    await db.query<{ name: string }>(
      'SELECT name FROM system.columns WHERE database = {d:String} AND table = {t:String} ORDER BY position',
      { d: table.split('.')[0] ?? '', t: table.split('.')[1] ?? '' },
    )
  )
    .map((c) => c.name)
    .filter((c) => !exclude.includes(c));
  const rows = await db.query<Record<string, unknown>>(
    `SELECT ${cols.join(', ')} FROM ${table} ORDER BY ${cols.join(', ')}`,
  );
  return rows.map((r) => JSON.stringify(r));
}

describe('runner with the sandbox upstreams', () => {
  it('records one ok run per job with true counts, window, host, version, trigger and actor', async () => {
    const record = await s.app.runner.run({ job: 'vk_fetch', window, trigger: 'cli', actor: 'alice' });
    expect(record.status).toBe('ok');
    expect(record.errMsg).toBe('');
    const [row] = await s.app.db.query<Record<string, string>>(
      `SELECT job, status, rows_written, rows_read, err_msg, toString(from_date) AS f, toString(to_date) AS t,
              host, version_tag, trigger, actor, finished_at >= started_at AS ordered
       FROM meta.etl_runs WHERE run_id = {id:UUID}`,
      { id: record.runId },
    );
    const [staged] = await s.app.db.query<{ n: string }>(
      'SELECT count() AS n FROM zakaz.stg_vk_ads_daily WHERE stat_date BETWEEN {f:Date} AND {t:Date}',
      { f: window.from, t: window.to },
    );
    expect(row).toMatchObject({
      job: 'vk_fetch',
      status: 'ok',
      err_msg: '',
      f: window.from,
      t: window.to,
      version_tag: 'test',
      trigger: 'cli',
      actor: 'alice',
      ordered: 1,
    });
    expect(Number(row?.rows_written)).toBe(Number(staged?.n));
    expect(Number(row?.rows_written)).toBeGreaterThan(0);
    expect(Number(row?.rows_read)).toBeGreaterThanOrEqual(Number(row?.rows_written));
    expect(row?.host).not.toBe('');
  });

  it('uses the default window: the last 3 MSK days up to yesterday', async () => {
    const record = await s.app.runner.run({ job: 'build_dm_vk', trigger: 'cli' });
    expect(record).toMatchObject({ status: 'ok', fromDate: addDays(yesterday, -2), toDate: yesterday });
  });

  it('ends ok when a 429 precedes success, and reuses one VK token across runs', async () => {
    s.vk.faults.status429Count = 1;
    s.qt.faults.rateLimitNext = 1;
    s.qt.faults.retryAfterSeconds = 0;
    const tokensBefore = s.vk.stats.tokensIssued;
    const a = await s.app.runner.run({ job: 'vk_fetch', window, trigger: 'cli' });
    const b = await s.app.runner.run({ job: 'qtickets_fetch', window, trigger: 'cli' });
    expect([a.status, b.status]).toEqual(['ok', 'ok']);
    // A fresh runner and clients (as a second process would build them) still use the stored token.
    const runner2 = createRunner({
      config: s.config,
      db: s.app.db,
      sources: createSources(s.config, silentLogger),
      logger: silentLogger,
      versionTag: 'test',
    });
    const c = await runner2.run({ job: 'vk_fetch', window, trigger: 'cli' });
    expect(c.status).toBe('ok');
    expect(s.vk.stats.tokensIssued).toBe(Math.max(tokensBefore, 1));
    expect(s.vk.stats.tokensIssued).toBe(1);
  });

  it('ends error with a readable err_msg and no secret when the upstream keeps failing', async () => {
    s.vk.faults.failAll = {
      status: 503,
      body: { error: { code: 'ERR_INTERNAL', message: 'Internal error' } },
    };
    try {
      const record = await s.app.runner.run({ job: 'vk_fetch', window, trigger: 'cli' });
      expect(record.status).toBe('error');
      expect(record.errMsg).toMatch(/503/);
      expect(record.errMsg.length).toBeLessThan(700);
      for (const secret of [s.config.vkAds.clientSecret, s.config.qtickets.token]) {
        expect(record.errMsg).not.toContain(secret);
      }
      const [row] = await s.app.db.query<{ status: string; err_msg: string }>(
        'SELECT status, err_msg FROM meta.etl_runs WHERE run_id = {id:UUID}',
        { id: record.runId },
      );
      expect(row).toEqual({ status: 'error', err_msg: record.errMsg });
    } finally {
      s.vk.faults.reset();
    }
  });

  it('leaves staging untouched when a fetch fails', async () => {
    const before = await contents(s.app.db, 'zakaz.stg_qtickets_sales');
    s.qt.faults.pathPrefix = '/orders';
    s.qt.faults.outage = true;
    try {
      const record = await s.app.runner.run({ job: 'qtickets_fetch', window, trigger: 'cli' });
      expect(record.status).toBe('error');
    } finally {
      s.qt.faults.outage = false;
      s.qt.faults.pathPrefix = null;
    }
    expect(await contents(s.app.db, 'zakaz.stg_qtickets_sales')).toEqual(before);
  });

  it('replaces exactly its window: running every job twice leaves identical contents', async () => {
    const tables = [
      'zakaz.stg_vk_ads_daily',
      'zakaz.stg_qtickets_sales',
      'zakaz.dm_vk_ads_daily',
      'zakaz.dm_sales_daily',
    ];
    const jobs = ['vk_fetch', 'qtickets_fetch', 'build_dm_vk', 'build_dm_sales'] as const;
    for (const job of jobs)
      expect((await s.app.runner.run({ job, window, trigger: 'cli' })).status).toBe('ok');
    const first = await Promise.all(tables.map((t) => contents(s.app.db, t)));
    for (const job of jobs)
      expect((await s.app.runner.run({ job, window, trigger: 'cli' })).status).toBe('ok');
    const second = await Promise.all(tables.map((t) => contents(s.app.db, t)));
    expect(second).toEqual(first);
    for (const rows of first) expect(rows.length).toBeGreaterThan(0);
    // Every day of the window has rows in both marts.
    const days = await s.app.db.query<{ mart: string; d: string }>(
      `SELECT 'vk' AS mart, uniqExact(stat_date) AS d FROM zakaz.dm_vk_ads_daily WHERE stat_date BETWEEN {f:Date} AND {t:Date}
       UNION ALL SELECT 'sales', uniqExact(sale_date) FROM zakaz.dm_sales_daily WHERE sale_date BETWEEN {f:Date} AND {t:Date}`,
      { f: window.from, t: window.to },
    );
    expect(days.map((r) => Number(r.d))).toEqual([7, 7]);
  });

  it('fetches and builds a window of many months in one run (one partition per day)', async () => {
    const long = { from: addDays(yesterday, -150), to: yesterday };
    for (const job of ['vk_fetch', 'qtickets_fetch', 'build_dm_vk', 'build_dm_sales'] as const) {
      const record = await s.app.runner.run({ job, window: long, trigger: 'cli' });
      expect({ job, status: record.status, err: record.errMsg }).toEqual({ job, status: 'ok', err: '' });
    }
    const [days] = await s.app.db.query<{ d: string }>(
      'SELECT uniqExact(sale_date) AS d FROM zakaz.dm_sales_daily WHERE sale_date BETWEEN {f:Date} AND {t:Date}',
      { f: long.from, t: long.to },
    );
    expect(Number(days?.d)).toBe(151);
  });

  it('a mart build matches the staging it was built from', async () => {
    const [mart] = await s.app.db.query<Record<string, string>>(
      `SELECT sum(tickets_sold) AS tickets, toString(sum(revenue)) AS revenue FROM zakaz.dm_sales_daily
       WHERE sale_date BETWEEN {f:Date} AND {t:Date}`,
      { f: window.from, t: window.to },
    );
    const [stg] = await s.app.db.query<Record<string, string>>(
      `SELECT sum(quantity) AS tickets, toString(sum(price)) AS revenue FROM zakaz.stg_qtickets_sales
       WHERE sale_date BETWEEN {f:Date} AND {t:Date} AND status != 'cancelled'`,
      { f: window.from, t: window.to },
    );
    expect(mart).toEqual(stg);
    const [vkMart] = await s.app.db.query<{ spend: string }>(
      'SELECT toString(sum(spend)) AS spend FROM zakaz.dm_vk_ads_daily WHERE stat_date BETWEEN {f:Date} AND {t:Date}',
      { f: window.from, t: window.to },
    );
    const [vkStg] = await s.app.db.query<{ spend: string }>(
      'SELECT toString(sum(spend)) AS spend FROM zakaz.stg_vk_ads_daily WHERE stat_date BETWEEN {f:Date} AND {t:Date}',
      { f: window.from, t: window.to },
    );
    expect(vkMart).toEqual(vkStg);
  });

  it('refuses a second run of a job in progress without recording anything', async () => {
    s.vk.faults.delayMs = 300;
    try {
      const countBefore = (await listRuns(s.app.db, { limit: 1000 })).length;
      const first = s.app.runner.run({ job: 'vk_fetch', window, trigger: 'cli' });
      await new Promise((r) => setTimeout(r, 100));
      await expect(s.app.runner.run({ job: 'vk_fetch', window, trigger: 'schedule' })).rejects.toBeInstanceOf(
        JobBusyError,
      );
      expect((await first).status).toBe('ok');
      expect((await listRuns(s.app.db, { limit: 1000 })).length).toBe(countBefore + 1);
    } finally {
      s.vk.faults.delayMs = 0;
    }
  });

  it('aborts a run that exceeds its timeout and records why', async () => {
    const runner = createRunner({
      config: { ...s.config, runner: { ...s.config.runner, jobTimeoutMs: 300 } },
      db: s.app.db,
      sources: createSources(s.config, silentLogger),
      logger: silentLogger,
      versionTag: 'test',
    });
    s.qt.faults.delayMs = 2_000;
    try {
      const record = await runner.run({ job: 'qtickets_fetch', window, trigger: 'cli' });
      expect(record.status).toBe('error');
      expect(record.errMsg).toMatch(/qtickets_fetch exceeded its timeout of 0.3 s/);
      expect(record.durationMs).toBeLessThan(2_000);
    } finally {
      s.qt.faults.delayMs = 0;
    }
  });

  it('spools the run record when ClickHouse refuses it, and writes it exactly once later', async () => {
    const failingControl: DbClient = {
      query: (sql, p, sig) => s.app.db.control.query(sql, p, sig),
      command: (sql, p, sig) => s.app.db.control.command(sql, p, sig),
      insert: (table, rows, sig) =>
        table === 'meta.etl_runs'
          ? Promise.reject(new Error('connect ECONNREFUSED 10.0.0.1:8443'))
          : s.app.db.control.insert(table, rows, sig),
    };
    const db: Db = { ...s.app.db, control: failingControl };
    const runner = createRunner({
      config: s.config,
      db,
      sources: createSources(s.config, silentLogger),
      logger: silentLogger,
      versionTag: 'test',
    });
    const record = await runner.run({ job: 'build_dm_vk', window, trigger: 'cli' });
    expect(record.status).toBe('ok');
    expect(readSpool(s.config.dataDir).records.map((r) => r.record.runId)).toEqual([record.runId]);
    const find = () =>
      s.app.db.query('SELECT 1 FROM meta.etl_runs WHERE run_id = {id:UUID}', { id: record.runId });
    expect(await find()).toHaveLength(0);
    expect((await flushSpool(s.app.db, s.config.dataDir, silentLogger)).map((r) => r.runId)).toEqual([
      record.runId,
    ]);
    expect(await flushSpool(s.app.db, s.config.dataDir, silentLogger)).toEqual([]);
    expect(await find()).toHaveLength(1);
    expect(readSpool(s.config.dataDir).records).toEqual([]);
  });

  it('never writes a run twice: a spooled record already in ClickHouse, or a heartbeat of a recorded run', async () => {
    const record = await s.app.runner.run({ job: 'build_dm_vk', window, trigger: 'cli' });
    spoolRun(s.config.dataDir, record);
    expect(await flushSpool(s.app.db, s.config.dataDir, silentLogger)).toEqual([]);
    expect(readSpool(s.config.dataDir).records).toEqual([]);
    // Its 'finished' heartbeat got lost: the run must not also be closed as interrupted.
    await writeHeartbeat(
      s.app.db.control,
      { ...heartbeatOf(record), pid: 2_000_000_000, procIdentity: '' },
      'running',
      Date.now(),
    );
    expect(await reap()).toEqual([]);
    const rows = await s.app.db.query('SELECT 1 FROM meta.etl_runs WHERE run_id = {id:UUID}', {
      id: record.runId,
    });
    expect(rows).toHaveLength(1);
  });

  it('closes a killed run even when another process now has its pid', async () => {
    const runId = '0b9f3c1e-5d7a-4e2b-9c4d-1a2b3c4d5e6f';
    // pid 1 is alive, but it is not the process that started this run.
    await writeHeartbeat(
      s.app.db.control,
      {
        ...heartbeatOf({ runId, job: 'vk_fetch', startedAt: Math.floor(Date.now() / 1000) - 60 }),
        pid: 1,
        procIdentity: 'other-boot:42',
      },
      'running',
      Date.now(),
    );
    const closed = await reap();
    expect(closed.map((r) => [r.runId, r.status])).toEqual([[runId, 'error']]);
    expect(closed[0]?.errMsg).toMatch(/^interrupted: process 1 /);
    expect(await reap()).toEqual([]);
  });

  it('fails, leaving staging as it was, when VK refuses statistics for every banner', async () => {
    const before = await contents(s.app.db, 'zakaz.stg_vk_ads_daily');
    s.vk.faults.statsUnavailableBannerIds = s.vk.data.banners.map((b) => b.id);
    try {
      const record = await s.app.runner.run({ job: 'vk_fetch', window, trigger: 'cli' });
      expect(record.status).toBe('error');
      expect(record.errMsg).toMatch(/refused statistics for all \d+ banners/);
    } finally {
      s.vk.faults.reset();
    }
    expect(await contents(s.app.db, 'zakaz.stg_vk_ads_daily')).toEqual(before);
  });

  it('runs a backfill as a parent run with one child run per step', async () => {
    const progress: string[] = [];
    const record = await s.app.runner.run({
      job: 'backfill_all',
      window: { from: addDays(yesterday, -9), to: yesterday },
      trigger: 'cli',
      actor: 'bob',
      backfill: { chunkDays: 5, onProgress: (p) => progress.push(`${p.done}/${p.total} ${p.job}`) },
    });
    expect(record.status).toBe('ok');
    expect(progress).toHaveLength(8);
    expect(progress[7]).toBe('8/8 build_dm_sales');
    const children = await s.app.db.query<{ job: string; n: string; ok: string; written: string }>(
      `SELECT job, count() AS n, countIf(status = 'ok') AS ok, sum(rows_written) AS written
       FROM meta.etl_runs WHERE parent_run_id = {id:UUID} AND actor = 'bob' GROUP BY job ORDER BY job`,
      { id: record.runId },
    );
    expect(children.map((c) => [c.job, Number(c.n), Number(c.ok)])).toEqual([
      ['build_dm_sales', 2, 2],
      ['build_dm_vk', 2, 2],
      ['qtickets_fetch', 2, 2],
      ['vk_fetch', 2, 2],
    ]);
    expect(record.rowsWritten).toBe(children.reduce((a, c) => a + Number(c.written), 0));
  });

  it('stops a backfill after the step in progress when asked to', async () => {
    const stop = new AbortController();
    const record = await s.app.runner.run({
      job: 'backfill_all',
      window: { from: addDays(yesterday, -9), to: yesterday },
      trigger: 'cli',
      backfill: { chunkDays: 5, stopAfterStep: stop.signal, onProgress: (p) => p.done === 2 && stop.abort() },
    });
    expect(record.status).toBe('error');
    expect(record.errMsg).toMatch(/after 2 of 8 steps/);
    const [children] = await s.app.db.query<{ n: string }>(
      'SELECT count() AS n FROM meta.etl_runs WHERE parent_run_id = {id:UUID}',
      { id: record.runId },
    );
    expect(Number(children?.n)).toBe(2);
  });
});
