/** build_dm_sales: zakaz.stg_qtickets_sales → zakaz.dm_sales_daily (MSK day × city × event) for the window. */
import { buildMart } from '../src/marts/buildMart.js';
import { DM_SALES_DAILY } from '../src/marts/tables.js';
import type { Job } from '../src/runner/job.js';

export const buildDmSales: Job = {
  name: 'build_dm_sales',
  summary:
    'zakaz.stg_qtickets_sales → zakaz.dm_sales_daily (tickets, revenue, refunds per MSK day, city and event)',
  missingConfig: () => [],
  run: (ctx) =>
    buildMart(ctx, DM_SALES_DAILY, 'build_dm_sales_daily.sql', {
      countSql: `SELECT count() AS n FROM zakaz.stg_qtickets_sales
                 WHERE sale_date BETWEEN {from_date:Date} AND {to_date:Date}
                    OR (status = 'refunded' AND refund_date BETWEEN {from_date:Date} AND {to_date:Date})`,
    }),
};
