/**
 * `etl demo --anomalies`: one ANOMALY per planted problem (a mass-refund day, a VK spend
 * spike), stored and shown; a second demo adds no new delivered alert.
 */
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { openDatabase } from '../src/clickhouse/db.js';
import { loadConfig } from '../src/config/loadConfig.js';
import { silentLogger, tempDir } from './helpers/env.js';

async function demo(cwd: string): Promise<{ code: number; out: string }> {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      out += chunk.toString();
      cb();
    },
  });
  const code = await main(['demo', '--anomalies'], {
    stdout: sink,
    stderr: new Writable({ write: (_c, _e, cb) => cb() }),
    env: { PATH: process.env.PATH, VERSION_TAG: 'demo-test' },
    cwd,
    isTTY: false,
  });
  return { code, out };
}

describe('etl demo --anomalies', () => {
  it('raises exactly one ANOMALY per planted problem, and nothing new on a second run', async () => {
    const cwd = tempDir('zakaz-etl-anomalies-');
    const first = await demo(cwd);
    expect(first.code).toBe(0);
    const planted = /mass refunds on (\d{4}-\d{2}-\d{2}), VK spend spike on (\d{4}-\d{2}-\d{2})/.exec(
      first.out,
    );
    expect(planted).not.toBeNull();
    const [, refundDay, spikeDay] = planted as unknown as [string, string, string];
    expect(first.out.match(/Аномалия в данных/g)).toHaveLength(2);
    expect(first.out).toMatch(
      new RegExp(`build_dm_sales\\nДанные за \\(МСК\\): ${refundDay}[\\s\\S]*чистая выручка: -`),
    );
    expect(first.out).toMatch(
      new RegExp(`build_dm_vk\\nДанные за \\(МСК\\): ${spikeDay}[\\s\\S]*расход VK: .* выше обычного`),
    );

    const second = await demo(cwd);
    expect(second.code).toBe(0);
    expect(second.out).not.toMatch(/Аномалия в данных/);

    const config = loadConfig({ CLICKHOUSE_DATA_DIR: path.join(cwd, 'data/demo/clickhouse') });
    const db = await openDatabase({ config, logger: silentLogger, owner: 'test' });
    try {
      const alerts = await db.query<{
        code: string;
        job: string;
        d: string;
        occurrences: number;
        delivery_state: string;
      }>(
        `SELECT code, job, toString(data_date) AS d, occurrences, delivery_state FROM meta.etl_alerts FINAL ORDER BY job`,
      );
      expect(alerts).toEqual([
        { code: 'ANOMALY', job: 'build_dm_sales', d: refundDay, occurrences: 2, delivery_state: 'printed' },
        { code: 'ANOMALY', job: 'build_dm_vk', d: spikeDay, occurrences: 2, delivery_state: 'printed' },
      ]);
    } finally {
      await db.close();
    }
  });
});
