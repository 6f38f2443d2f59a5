/** build_dm_vk: zakaz.stg_vk_ads_daily → zakaz.dm_vk_ads_daily (MSK day × city) for the window. */
import { buildMart } from '../src/marts/buildMart.js';
import { DM_VK_ADS_DAILY } from '../src/marts/tables.js';
import type { Job } from '../src/runner/job.js';

export const buildDmVk: Job = {
  name: 'build_dm_vk',
  summary: 'zakaz.stg_vk_ads_daily → zakaz.dm_vk_ads_daily (spend, impressions, clicks per MSK day and city)',
  missingConfig: () => [],
  run: (ctx) =>
    buildMart(ctx, DM_VK_ADS_DAILY, 'build_dm_vk_ads_daily.sql', {
      countSql:
        'SELECT count() AS n FROM zakaz.stg_vk_ads_daily WHERE stat_date BETWEEN {from_date:Date} AND {to_date:Date}',
    }),
};
