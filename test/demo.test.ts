/**
 * `etl demo` as a newcomer runs it, in a fresh directory: exit 0, every job recorded ok, both
 * marts filled for each of the 30 days, and a second demo ends with the same mart contents.
 */
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { openDatabase } from '../src/clickhouse/db.js';
import { loadConfig } from '../src/config/loadConfig.js';
import { silentLogger, tempDir } from './helpers/env.js';

function capture(): { stream: Writable; text: () => string } {
  let buf = '';
  return {
    stream: new Writable({
      write(chunk: Buffer, _enc, cb) {
        buf += chunk.toString();
        cb();
      },
    }),
    text: () => buf,
  };
}

async function demo(cwd: string): Promise<{ code: number; out: string; err: string }> {
  const out = capture();
  const err = capture();
  const code = await main(['demo'], {
    stdout: out.stream,
    stderr: err.stream,
    env: { PATH: process.env.PATH, VERSION_TAG: 'demo-test' },
    cwd,
    isTTY: false,
  });
  return { code, out: out.text(), err: err.text() };
}

describe('etl demo', () => {
  it('backfills 30 days end to end, and a second run gives identical marts', async () => {
    const cwd = tempDir('zakaz-etl-demo-');
    const first = await demo(cwd);
    expect(first.err).not.toMatch(/error|\n\s+at /i);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/backfill_all ok: window/);
    expect(first.out).toMatch(/zakaz\.dm_vk_ads_daily\s+30\s/);
    expect(first.out).toMatch(/zakaz\.dm_sales_daily\s+30\s/);
    expect(first.err).toMatch(/backfill 20\/20: build_dm_sales/);

    const second = await demo(cwd);
    expect(second.code).toBe(0);
    expect(second.out).toMatch(/reusing earlier demo data/);
    const totals = (s: string) => s.slice(s.indexOf('mart totals'), s.indexOf('next:'));
    expect(totals(second.out)).toEqual(totals(first.out));

    const config = loadConfig({ CLICKHOUSE_DATA_DIR: path.join(cwd, 'data/demo/clickhouse') });
    const db = await openDatabase({ config, logger: silentLogger, owner: 'test' });
    try {
      const jobs = await db.query<{ job: string; ok: string; bad: string }>(
        "SELECT job, countIf(status = 'ok') AS ok, countIf(status != 'ok') AS bad FROM meta.etl_runs GROUP BY job ORDER BY job",
      );
      expect(jobs).toEqual([
        { job: 'backfill_all', ok: '2', bad: '0' },
        { job: 'build_dm_sales', ok: '10', bad: '0' },
        { job: 'build_dm_vk', ok: '10', bad: '0' },
        { job: 'qtickets_fetch', ok: '10', bad: '0' },
        { job: 'vk_fetch', ok: '10', bad: '0' },
      ]);
      const [window] = await db.query<{ f: string; t: string }>(
        "SELECT toString(from_date) AS f, toString(to_date) AS t FROM meta.etl_runs WHERE job = 'backfill_all' LIMIT 1",
      );
      const perDay = await db.query<{ mart: string; days: string }>(
        `SELECT 'vk' AS mart, uniqExact(stat_date) AS days
         FROM zakaz.dm_vk_ads_daily WHERE stat_date BETWEEN {f:Date} AND {t:Date}
         UNION ALL
         SELECT 'sales', uniqExact(sale_date)
         FROM zakaz.dm_sales_daily WHERE sale_date BETWEEN {f:Date} AND {t:Date}`,
        { f: window?.f ?? '', t: window?.t ?? '' },
      );
      expect(perDay.map((r) => [r.mart, Number(r.days)]).sort()).toEqual([
        ['sales', 30],
        ['vk', 30],
      ]);

      // The DataLens views on the demo's data agree with meta.etl_runs read directly.
      const durations = await db.query<{ id: string; view_s: number; ms: string }>(
        `SELECT toString(r.run_id) AS id, v.duration_s AS view_s, toString(r.duration_ms) AS ms
         FROM meta.etl_runs AS r INNER JOIN meta.v_etl_runs AS v ON v.run_id = r.run_id`,
      );
      expect(durations).toHaveLength(42);
      for (const d of durations) expect(d.view_s).toBeCloseTo(Number(d.ms) / 1000, 6);
      const daily = await db.query<{ job: string; runs: string; errors: string; worst: number }>(
        `SELECT job, toString(sum(runs)) AS runs, toString(sum(errors)) AS errors, max(error_rate) AS worst
         FROM meta.v_etl_runs_daily GROUP BY job ORDER BY job`,
      );
      expect(
        daily.map((d) => ({ job: d.job, runs: Number(d.runs), errors: Number(d.errors), worst: d.worst })),
      ).toEqual(
        jobs.map((j) => ({
          job: j.job,
          runs: Number(j.ok) + Number(j.bad),
          errors: Number(j.bad),
          worst: 0,
        })),
      );
    } finally {
      await db.close();
    }
  });
});
