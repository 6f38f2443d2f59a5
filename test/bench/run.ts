/**
 * `npm run bench`: throughput and memory of the four jobs over a full year (365 MSK days, about the
 * longest default window) against the sandbox upstreams on a real embedded ClickHouse. Prints one
 * line per job and fails (exit 1) when a target is missed. Targets are for the 2-core CI machine.
 */
import { startSandboxApp } from '../helpers/app.js';
import { tempDir } from '../helpers/env.js';
import { addDays, businessDate } from '../../src/time/dates.js';
import { textTable } from '../../src/cli/format.js';

/** Per-job targets: wall time for 365 days, ms. */
const TARGET_MS: Record<string, number> = {
  vk_fetch: 20_000,
  qtickets_fetch: 30_000,
  build_dm_vk: 10_000,
  build_dm_sales: 10_000,
};
/** Peak resident memory of the whole process, MiB (libchdb alone is ~260 MiB). */
const TARGET_PEAK_RSS_MIB = 1_500;

const s = await startSandboxApp(tempDir('zakaz-etl-bench-'), { env: { HTTP_RETRIES: '2' } });
const yesterday = addDays(businessDate(new Date(), 'Europe/Moscow'), -1);
// 365 days up to yesterday: VK Ads serves daily statistics only for the last 366 days including today.
const window = { from: addDays(yesterday, -364), to: yesterday };
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 50);
const rows: Array<Array<string | number>> = [];
let failed = false;
try {
  for (const job of ['vk_fetch', 'qtickets_fetch', 'build_dm_vk', 'build_dm_sales'] as const) {
    const started = performance.now();
    const record = await s.app.runner.run({ job, window, trigger: 'cli' });
    const ms = Math.round(performance.now() - started);
    const ok = record.status === 'ok' && ms <= (TARGET_MS[job] ?? Infinity);
    failed ||= !ok;
    rows.push([
      job,
      record.status,
      record.rowsRead,
      record.rowsWritten,
      ms,
      Math.round((record.rowsWritten / Math.max(ms, 1)) * 1000),
      TARGET_MS[job] ?? '',
      ok ? 'ok' : `MISSED ${record.errMsg}`,
    ]);
  }
} finally {
  clearInterval(sampler);
  await s.close();
}
const peakMib = Math.round(peakRss / 1024 / 1024);
console.log(`jobs over ${window.from}..${window.to} (365 MSK days), sandbox upstreams, embedded ClickHouse`);
console.log(
  textTable(
    ['job', 'status', 'read', 'written', 'ms', 'rows/s', 'target ms', 'verdict'],
    rows,
    [2, 3, 4, 5, 6],
  ),
);
console.log(`peak RSS ${peakMib} MiB (target ≤ ${TARGET_PEAK_RSS_MIB} MiB)`);
if (peakMib > TARGET_PEAK_RSS_MIB) failed = true;
process.exit(failed ? 1 : 0);
