/**
 * The /backfill calendar's day states and the backfill preview, on runs recorded by the real
 * runner against the sandbox upstreams and an embedded ClickHouse (one data directory here).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfillPreview, dayStates } from '../src/bot/backfillPlan.js';
import type { DayState } from '../src/bot/calendar.js';
import { listRuns } from '../src/runner/registry.js';
import { STEP_JOBS, type StepJobName } from '../src/runner/job.js';
import { addDays, businessDate, eachDay, windowDays } from '../src/time/dates.js';
import { startSandboxApp, type SandboxApp } from './helpers/app.js';
import { tempDir } from './helpers/env.js';

let s: SandboxApp;
const today = businessDate(new Date(), 'Europe/Moscow');
/** Day `i` of a six-week grid that ends well before today (inside VK's 366-day horizon). */
const day = (i: number) => addDays(today, -50 + i);
const grid = { from: day(0), to: day(41) };

beforeAll(async () => {
  s = await startSandboxApp(tempDir());
});
afterAll(async () => {
  await s.close();
});

/** The states of grid days `from..to` (indexes), in date order. */
async function statesOf(jobs: readonly StepJobName[], from: number, to: number): Promise<DayState[]> {
  const states = await dayStates(s.app.db, { jobs, from: day(from), to: day(to) });
  return eachDay({ fromDate: day(from), toDate: day(to) }).map((d) => states.get(d)!);
}

async function run(job: string, from: number, to: number) {
  return s.app.runner.run({ job, window: { from: day(from), to: day(to) }, trigger: 'cli' });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

describe('dayStates and backfillPreview', () => {
  it('on an empty registry: every day never, no estimate, nothing to replace', async () => {
    const states = await dayStates(s.app.db, { jobs: STEP_JOBS, ...grid });
    expect([...states.keys()]).toEqual(eachDay({ fromDate: grid.from, toDate: grid.to }));
    expect(new Set(states.values())).toEqual(new Set(['never']));
    const preview = await backfillPreview(s.app.db, s.config, { jobs: STEP_JOBS, from: day(0), to: day(9) });
    expect(preview).toEqual({
      days: 10,
      chunks: 2, // ETL_BACKFILL_CHUNK_DAYS defaults to 7
      steps: 8,
      estimatedMs: null,
      replaces: [
        { job: 'vk_fetch', table: 'zakaz.stg_vk_ads_daily', rows: 0 },
        { job: 'qtickets_fetch', table: 'zakaz.stg_qtickets_sales', rows: 0 },
        { job: 'build_dm_vk', table: 'zakaz.dm_vk_ads_daily', rows: 0 },
        { job: 'build_dm_sales', table: 'zakaz.dm_sales_daily', rows: 0 },
      ],
    });
  });

  it('marks a successful backfill ok, leaves untouched days never', async () => {
    const record = await s.app.runner.run({
      job: 'backfill_all',
      window: { from: day(0), to: day(9) },
      trigger: 'cli',
    });
    expect(record.status).toBe('ok');
    expect(await statesOf(STEP_JOBS, 0, 11)).toEqual([...Array<DayState>(10).fill('ok'), 'never', 'never']);
    expect(await statesOf(['build_dm_sales'], 8, 10)).toEqual(['ok', 'ok', 'never']);
    // The parent backfill_all row is not a step job's run and changes nothing.
    expect(await statesOf([], 0, 1)).toEqual(['never', 'never']);
  });

  it('marks the days of a failed run failed, for the jobs it concerns; the latest covering run wins', async () => {
    s.vk.faults.failAll = {
      status: 500,
      body: { error: { code: 'ERR_INTERNAL', message: 'Internal error' } },
    };
    try {
      expect((await run('vk_fetch', 12, 14)).status).toBe('error');
      expect((await run('vk_fetch', 0, 1)).status).toBe('error'); // after the ok backfill
    } finally {
      s.vk.faults.reset();
    }
    expect(await statesOf(STEP_JOBS, 0, 2)).toEqual(['failed', 'failed', 'ok']);
    expect(await statesOf(STEP_JOBS, 11, 15)).toEqual(['never', 'failed', 'failed', 'failed', 'never']);
    expect(await statesOf(['qtickets_fetch', 'build_dm_sales'], 0, 2)).toEqual(['ok', 'ok', 'ok']);
    expect(await statesOf(['qtickets_fetch'], 12, 14)).toEqual(['never', 'never', 'never']);

    expect((await run('vk_fetch', 13, 13)).status).toBe('ok');
    expect(await statesOf(['vk_fetch'], 12, 14)).toEqual(['failed', 'ok', 'failed']);
    // vk_fetch is fine on day 13 now, but the other jobs never loaded it.
    expect(await statesOf(STEP_JOBS, 13, 13)).toEqual(['never']);
  });

  it('marks a day zero when its latest covering run wrote no rows', async () => {
    // Nothing was fetched for days 20–21, so the mart build has nothing to write.
    const record = await run('build_dm_vk', 20, 21);
    expect({ status: record.status, rows: record.rowsWritten }).toEqual({ status: 'ok', rows: 0 });
    expect(await statesOf(['build_dm_vk'], 19, 22)).toEqual(['never', 'zero', 'zero', 'never']);
    expect(await statesOf(['build_dm_vk', 'build_dm_sales'], 20, 21)).toEqual(['never', 'never']);
    // A run clipped by the asked range still counts for the days inside it.
    expect(await statesOf(['build_dm_vk'], 21, 21)).toEqual(['zero']);
  });

  it('previews a loaded range: exact current row counts, steps by chunk, and a history-based estimate', async () => {
    const range = { from: day(0), to: day(9) };
    const preview = await backfillPreview(s.app.db, s.config, { jobs: STEP_JOBS, ...range });
    for (const r of preview.replaces) {
      const column = r.table.includes('vk_ads') ? 'stat_date' : 'sale_date';
      const [direct] = await s.app.db.query<{ n: string }>(
        `SELECT count() AS n FROM ${r.table} WHERE ${column} BETWEEN {from:Date} AND {to:Date}`,
        range,
      );
      expect(r.rows).toBe(Number(direct!.n));
      expect(r.rows).toBeGreaterThan(0);
    }

    // Expected: per job, the median of ms per window day over its ok runs, × 10 days, summed.
    let expected = 0;
    for (const job of STEP_JOBS) {
      const ok = (await listRuns(s.app.db, { job, limit: 1000 }))
        .filter((r) => r.status === 'ok')
        .slice(0, 50);
      expect(ok.length).toBeGreaterThan(0);
      expected += median(ok.map((r) => r.durationMs / windowDays(r))) * 10;
    }
    expect(preview).toMatchObject({ days: 10, chunks: 2, steps: 8, estimatedMs: Math.round(expected) });
    expect(preview.estimatedMs).toBeGreaterThan(0);

    const two = await backfillPreview(
      s.app.db,
      { runner: { backfillChunkDays: 3 } },
      { jobs: ['build_dm_sales', 'qtickets_fetch', 'build_dm_sales'], ...range },
    );
    expect(two).toMatchObject({ days: 10, chunks: 4, steps: 8 });
    expect(two.replaces.map((r) => r.table)).toEqual(['zakaz.stg_qtickets_sales', 'zakaz.dm_sales_daily']);
    expect(two.estimatedMs).toBeGreaterThan(0);

    const oneDay = await backfillPreview(s.app.db, s.config, {
      jobs: ['vk_fetch'],
      from: day(5),
      to: day(5),
    });
    expect(oneDay).toMatchObject({ days: 1, chunks: 1, steps: 1 });
    const [vkDay] = await s.app.db.query<{ n: string }>(
      'SELECT count() AS n FROM zakaz.stg_vk_ads_daily WHERE stat_date = {d:Date}',
      { d: day(5) },
    );
    expect(oneDay.replaces).toEqual([
      { job: 'vk_fetch', table: 'zakaz.stg_vk_ads_daily', rows: Number(vkDay!.n) },
    ]);
  });

  it('refuses a reversed or impossible range', async () => {
    await expect(dayStates(s.app.db, { jobs: STEP_JOBS, from: day(5), to: day(4) })).rejects.toThrow(
      /is after/,
    );
    await expect(
      backfillPreview(s.app.db, s.config, { jobs: STEP_JOBS, from: '2025-02-30', to: day(4) }),
    ).rejects.toThrow(/real date YYYY-MM-DD, got "2025-02-30"/);
  });
});
