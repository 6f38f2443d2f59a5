/**
 * `etl health` on data loaded from the sandboxes: exit 0 when yesterday is complete, 1 after
 * yesterday is deleted from a mart (with a ZERO_ROWS alert on --notify), JSON that parses.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { addDays, businessDate } from '../src/time/dates.js';
import { startSandboxApp, type SandboxApp } from './helpers/app.js';
import { tempDir } from './helpers/env.js';

let s: SandboxApp;
const yesterday = addDays(businessDate(new Date(), 'Europe/Moscow'), -1);

beforeAll(async () => {
  s = await startSandboxApp(tempDir());
  const record = await s.app.runner.run({
    job: 'backfill_all',
    window: { from: addDays(yesterday, -13), to: yesterday },
    trigger: 'cli',
  });
  expect(record.status).toBe('ok');
});
afterAll(async () => {
  await s.close();
});

async function etl(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const sink = (append: (t: string) => void) =>
    new Writable({
      write(chunk: Buffer, _e, cb) {
        append(chunk.toString());
        cb();
      },
    });
  const code = await main(args, {
    stdout: sink((t) => (out += t)),
    stderr: sink((t) => (err += t)),
    env: s.env,
    cwd: process.cwd(),
    isTTY: false,
  });
  return { code, out, err };
}

describe('etl health', () => {
  it('passes on complete data and prints a readable table and parseable JSON', async () => {
    const table = await etl(['health']);
    expect(table.err).toBe('');
    expect(table.code).toBe(0);
    expect(table.out).toMatch(new RegExp(`healthcheck for ${yesterday} \\(Europe/Moscow\\): OK`));
    expect(table.out).toMatch(/mart_rows:zakaz\.dm_sales_daily\s+ok/);
    const json = await etl(['health', '--json']);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.out) as {
      ok: boolean;
      date: string;
      checks: Array<{ name: string; ok: boolean }>;
    };
    expect(report).toMatchObject({ ok: true, date: yesterday });
    expect(report.checks.length).toBeGreaterThanOrEqual(10);
  });

  it('fails after yesterday is deleted from a mart, and --notify raises one ZERO_ROWS alert', async () => {
    await s.app.db.command(`ALTER TABLE zakaz.dm_sales_daily DROP PARTITION '${yesterday}'`);
    const r = await etl(['health', '--notify']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/mart_rows:zakaz\.dm_sales_daily\s+FAIL\s+0 rows/);
    const again = await etl(['health', '--notify']);
    expect(again.code).toBe(1);
    const alerts = await s.app.db.query<{ code: string; job: string; occurrences: number }>(
      "SELECT code, job, occurrences FROM meta.etl_alerts FINAL WHERE code = 'ZERO_ROWS'",
    );
    expect(alerts).toEqual([{ code: 'ZERO_ROWS', job: 'build_dm_sales', occurrences: 2 }]);
  });

  it('refuses a bad --date with exit 2', async () => {
    expect((await etl(['health', '--date', '2025-02-30'])).code).toBe(2);
  });
});
