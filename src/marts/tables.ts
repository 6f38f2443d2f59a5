/** The day-partitioned tables the jobs replace, with the keys their tmp copies need. */
import type { PartitionedTable } from '../clickhouse/replaceWindow.js';

/** zakaz.stg_vk_ads_daily — written by vk_fetch. */
export const STG_VK_ADS_DAILY: PartitionedTable = {
  table: 'zakaz.stg_vk_ads_daily',
  dateColumn: 'stat_date',
  orderBy: '(stat_date, ad_plan_id, ad_group_id, banner_id)',
};

/** zakaz.stg_qtickets_sales — written by qtickets_fetch. */
export const STG_QTICKETS_SALES: PartitionedTable = {
  table: 'zakaz.stg_qtickets_sales',
  dateColumn: 'sale_date',
  orderBy: '(sale_date, event_id, order_id, basket_id)',
};

/** zakaz.dm_vk_ads_daily — written by build_dm_vk. */
export const DM_VK_ADS_DAILY: PartitionedTable = {
  table: 'zakaz.dm_vk_ads_daily',
  dateColumn: 'stat_date',
  orderBy: '(stat_date, city)',
};

/** zakaz.dm_sales_daily — written by build_dm_sales. */
export const DM_SALES_DAILY: PartitionedTable = {
  table: 'zakaz.dm_sales_daily',
  dateColumn: 'sale_date',
  orderBy: '(sale_date, city, event_id)',
};
