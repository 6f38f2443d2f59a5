/** The job registry: identifier → definition. */
import type { Job, JobName } from '../src/runner/job.js';
import { backfillAll } from './backfill_all.js';
import { buildDmSales } from './build_dm_sales.js';
import { buildDmVk } from './build_dm_vk.js';
import { qticketsFetch } from './qtickets_fetch.js';
import { vkFetch } from './vk_fetch.js';

export { planBackfill, type BackfillStep } from './backfill_all.js';

/** Every job by its `meta.etl_runs.job` identifier. */
export const JOBS: Readonly<Record<JobName, Job>> = {
  vk_fetch: vkFetch,
  qtickets_fetch: qticketsFetch,
  build_dm_vk: buildDmVk,
  build_dm_sales: buildDmSales,
  backfill_all: backfillAll,
};
