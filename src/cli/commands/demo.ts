/**
 * `etl demo`: the newcomer's first command. Embedded ClickHouse under ./data/demo, local sandbox
 * VK Ads and QTickets servers on loopback (seeded, deterministic data in the real wire formats),
 * migrations, a backfill of the last N MSK days with a progress bar, then the run history and the
 * marts' totals. A second demo reuses the data and ends with the same mart contents.
 *
 * The demo never touches a configured ClickHouse server or the production data directories:
 * it always runs embedded in its own directories.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { openApp } from '../../app/openApp.js';
import { vkTokenStorePath } from '../../app/sources.js';
import { embeddedDataExists } from '../../clickhouse/db.js';
import { ExitCode, UsageError } from '../../errors.js';
import { listRuns } from '../../runner/registry.js';
import { startQticketsSandbox } from '../../sandbox/qticketsSandbox.js';
import { startVkAdsSandbox } from '../../sandbox/vkAdsSandbox.js';
import { STEP_JOBS } from '../../runner/job.js';
import { addDays, businessDate, trailingWindow, type DateWindow } from '../../time/dates.js';
import { createTerminalNotifier } from '../../notify/terminalNotifier.js';
import { runsTable, runSummary, textTable } from '../format.js';
import type { CommandContext } from '../main.js';
import { cliActor } from './shared.js';
import { runBackfillWithProgress } from './backfill.js';
import type { App } from '../../app/openApp.js';

function stepIndex(job: string): number {
  return (STEP_JOBS as readonly string[]).indexOf(job);
}

/** Seed of the demo's sandbox data: the same seed gives the same orders and statistics. */
export const DEMO_SEED = 20_251_101;

/** Per-mart totals over a window, as printed by the demo. */
export interface MartTotals {
  vk: { days: number; rows: number; impressions: string; clicks: string; spendRub: string };
  sales: {
    days: number;
    rows: number;
    ticketsSold: string;
    revenueRub: string;
    refundsRub: string;
    netRevenueRub: string;
  };
}

/** Totals of both marts over `window` (sums as exact decimal strings). */
export async function martTotals(app: App, window: DateWindow): Promise<MartTotals> {
  const params = { f: window.fromDate, t: window.toDate };
  const [vk] = await app.db.query<Record<string, string>>(
    `SELECT uniqExact(stat_date) AS days, count() AS rows, sum(impressions) AS impressions, sum(clicks) AS clicks,
            toDecimalString(sum(spend), 2) AS spend
     FROM zakaz.dm_vk_ads_daily WHERE stat_date BETWEEN {f:Date} AND {t:Date}`,
    params,
  );
  const [sales] = await app.db.query<Record<string, string>>(
    `SELECT uniqExact(sale_date) AS days, count() AS rows, sum(tickets_sold) AS tickets,
            toDecimalString(sum(revenue), 2) AS revenue, toDecimalString(sum(refunds_amount), 2) AS refunds,
            toDecimalString(sum(net_revenue), 2) AS net
     FROM zakaz.dm_sales_daily WHERE sale_date BETWEEN {f:Date} AND {t:Date}`,
    params,
  );
  return {
    vk: {
      days: Number(vk?.days ?? 0),
      rows: Number(vk?.rows ?? 0),
      impressions: vk?.impressions ?? '0',
      clicks: vk?.clicks ?? '0',
      spendRub: vk?.spend ?? '0',
    },
    sales: {
      days: Number(sales?.days ?? 0),
      rows: Number(sales?.rows ?? 0),
      ticketsSold: sales?.tickets ?? '0',
      revenueRub: sales?.revenue ?? '0',
      refundsRub: sales?.refunds ?? '0',
      netRevenueRub: sales?.net ?? '0',
    },
  };
}

/** The newcomer demo (see the module doc). @returns 0 when the backfill ended ok, else 1. */
export async function demoCommand(
  ctx: CommandContext,
  opts: { days: string; anomalies?: boolean },
): Promise<number> {
  const days = Number(opts.days);
  // 365: VK Ads keeps 366 days of statistics counting today, and the window ends yesterday.
  if (!/^\d+$/.test(opts.days) || days < 1 || days > 365) {
    throw new UsageError(`--days must be a whole number from 1 to 365, got "${opts.days}"`);
  }
  const demoRoot = path.resolve(ctx.io.cwd, 'data', 'demo');
  // Planted problems (--anomalies): a mass-refund day and a VK spend spike inside the window.
  const yesterday = addDays(businessDate(new Date(), 'Europe/Moscow'), -1);
  const planted = opts.anomalies
    ? { massRefundDate: addDays(yesterday, -3), spendSpikeDate: addDays(yesterday, -6) }
    : undefined;
  const vk = await startVkAdsSandbox({
    seed: DEMO_SEED,
    ...(planted ? { scenarios: { spendSpikeDate: planted.spendSpikeDate } } : {}),
  });
  const qt = await startQticketsSandbox({
    seed: DEMO_SEED,
    ...(planted ? { scenarios: { massRefundDate: planted.massRefundDate } } : {}),
  });
  try {
    const config = ctx.config({
      CLICKHOUSE_URL: '',
      CLICKHOUSE_DATA_DIR: path.join(demoRoot, 'clickhouse'),
      ETL_DATA_DIR: path.join(demoRoot, 'state'),
      VK_ADS_API_URL: vk.url,
      VK_ADS_CLIENT_ID: vk.clientId,
      VK_ADS_CLIENT_SECRET: vk.clientSecret,
      QTICKETS_API_URL: qt.url,
      QTICKETS_TOKEN: qt.token,
      LOG_LEVEL: ctx.io.env.LOG_LEVEL ?? 'warn',
    });
    const reused = embeddedDataExists(config.clickhouse.dataDir);
    // The sandbox keeps its tokens in memory: a token stored by an earlier demo belongs to a
    // sandbox that is gone. Start clean instead of showing a refresh refusal.
    rmSync(vkTokenStorePath(config), { force: true });
    ctx.out(`zakaz-etl demo`);
    ctx.out(
      `  ClickHouse: embedded, ${config.clickhouse.dataDir} (${reused ? 'reusing earlier demo data' : 'new'})`,
    );
    ctx.out(`  VK Ads sandbox:   ${vk.url}`);
    ctx.out(`  QTickets sandbox: ${qt.url}`);
    if (planted) {
      ctx.out(
        `  planted problems: mass refunds on ${planted.massRefundDate}, VK spend spike on ${planted.spendSpikeDate}`,
      );
    }
    const app = await openApp({
      config,
      logger: ctx.logger(config),
      owner: 'etl demo',
      schema: 'apply',
      notifier: createTerminalNotifier((text) => ctx.out(text)),
    });
    try {
      const applied = app.migrations?.applied ?? [];
      ctx.out(`  schema: ${applied.length > 0 ? `applied ${applied.join(', ')}` : 'up to date'}`);
      const window = trailingWindow(new Date(), config.timezone, days);
      ctx.out(
        `\nbackfill ${window.fromDate}..${window.toDate} (${days} MSK days, ${STEP_JOBS.join(' → ')} per chunk)`,
      );
      const record = await runBackfillWithProgress(ctx, app, {
        window,
        jobs: [...STEP_JOBS],
        chunkDays: config.runner.backfillChunkDays,
        trigger: 'demo',
        actor: cliActor(undefined, ctx.io.env),
      });
      ctx.out(runSummary(record));

      const runs = await listRuns(app.db, { limit: 200 });
      // The parent first, then its steps in the order they ran (chunk by chunk).
      const steps = runs
        .filter((r) => r.parentRunId === record.runId)
        .sort((a, b) => a.fromDate.localeCompare(b.fromDate) || stepIndex(a.job) - stepIndex(b.job));
      const thisBackfill = [...runs.filter((r) => r.runId === record.runId), ...steps];
      ctx.out(`\nrun history (meta.etl_runs, this backfill):`);
      ctx.out(runsTable(thisBackfill, config.timezone));

      const totals = await martTotals(app, window);
      ctx.out(`\nmart totals for ${window.fromDate}..${window.toDate}:`);
      ctx.out(
        textTable(
          ['mart', 'days', 'rows', 'totals'],
          [
            [
              'zakaz.dm_vk_ads_daily',
              totals.vk.days,
              totals.vk.rows,
              `impressions ${totals.vk.impressions}, clicks ${totals.vk.clicks}, spend ${totals.vk.spendRub} RUB`,
            ],
            [
              'zakaz.dm_sales_daily',
              totals.sales.days,
              totals.sales.rows,
              `tickets ${totals.sales.ticketsSold}, revenue ${totals.sales.revenueRub} RUB, refunds ${totals.sales.refundsRub} RUB, net ${totals.sales.netRevenueRub} RUB`,
            ],
          ],
          [1, 2],
        ),
      );
      ctx.out(
        `\nnext: CLICKHOUSE_DATA_DIR=${path.relative(ctx.io.cwd, config.clickhouse.dataDir)} ETL_DATA_DIR=${path.relative(ctx.io.cwd, config.dataDir)} npx etl history`,
      );
      return record.status === 'ok' ? ExitCode.ok : ExitCode.failed;
    } finally {
      await app.close();
    }
  } finally {
    await Promise.allSettled([vk.close(), qt.close()]);
  }
}
