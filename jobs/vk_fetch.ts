/**
 * vk_fetch: VK Ads API v2 daily banner statistics → zakaz.stg_vk_ads_daily for the window
 * (default: the last 3 MSK days up to yesterday, because VK restates recent days). Batches of at
 * most 200 banners go to a tmp table as they arrive; the window is swapped in per day only when
 * the whole fetch succeeded.
 */
import { stageWindow } from '../src/marts/stageWindow.js';
import { STG_VK_ADS_DAILY } from '../src/marts/tables.js';
import type { Job, JobContext } from '../src/runner/job.js';
import type { VkBannerDayStat } from '../src/sources/types.js';
import { addDays, type DateWindow, type IsoDate } from '../src/time/dates.js';

/** VK Ads serves daily statistics for the last 366 days, today included (ERR_LIMIT_EXCEEDED beyond). */
export const VK_STATS_HORIZON_DAYS = 366;

/** Why VK Ads cannot give statistics for `window`, or undefined. */
export function vkHorizonProblem(window: DateWindow, today: IsoDate): string | undefined {
  const earliest = addDays(today, -(VK_STATS_HORIZON_DAYS - 1));
  return window.fromDate < earliest
    ? `VK Ads keeps daily statistics for the last ${VK_STATS_HORIZON_DAYS} days only: vk_fetch can start at ${earliest} at the earliest, not ${window.fromDate}`
    : undefined;
}

async function* batches(ctx: JobContext) {
  for await (const batch of ctx.sources.vkAds().dailyBannerStats(ctx.window, ctx.signal)) {
    yield { items: batch.rows, recordsRead: batch.recordsRead };
  }
}

export const vkFetch: Job = {
  name: 'vk_fetch',
  summary: 'VK Ads API v2 daily banner statistics → zakaz.stg_vk_ads_daily',
  missingConfig: (config) => [
    ...(config.vkAds.clientId
      ? []
      : ['VK_ADS_CLIENT_ID: required by vk_fetch (VK Ads → Settings → API access)']),
    ...(config.vkAds.clientSecret ? [] : ['VK_ADS_CLIENT_SECRET: required by vk_fetch']),
  ],
  refuseWindow: (window, today) => vkHorizonProblem(window, today),
  run: (ctx) =>
    stageWindow<VkBannerDayStat>(ctx, STG_VK_ADS_DAILY, batches(ctx), (r, resolveCity, loadedAt) => ({
      stat_date: r.statDate,
      ad_plan_id: String(r.adPlanId),
      ad_plan_name: r.adPlanName,
      ad_group_id: String(r.adGroupId),
      ad_group_name: r.adGroupName,
      banner_id: String(r.bannerId),
      banner_name: r.bannerName,
      impressions: String(r.impressions),
      clicks: String(r.clicks),
      spend: r.spendRub,
      utm_source: r.utmSource,
      utm_medium: r.utmMedium,
      utm_campaign: r.utmCampaign,
      utm_content: r.utmContent,
      utm_term: r.utmTerm,
      landing_url: r.landingUrl,
      city: resolveCity([r.utmCampaign, r.utmContent, r.utmTerm, r.adGroupName, r.adPlanName, r.bannerName]),
      run_id: ctx.runId,
      loaded_at: loadedAt,
    })),
};
