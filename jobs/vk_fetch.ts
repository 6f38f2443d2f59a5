/**
 * vk_fetch: VK Ads API v2 daily banner statistics → zakaz.stg_vk_ads_daily for the window
 * (default: the last 3 MSK days up to yesterday, because VK restates recent days). Batches of at
 * most 200 banners are inserted into a tmp table as they arrive; the window is swapped in per day
 * only when the whole fetch succeeded.
 */
import { loadCityAliases } from '../src/clickhouse/cityAliases.js';
import { replaceWindow } from '../src/clickhouse/replaceWindow.js';
import { STG_VK_ADS_DAILY } from '../src/marts/tables.js';
import type { Job } from '../src/runner/job.js';
import { createCityResolver } from '../src/sources/cityResolver.js';
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
  async run(ctx) {
    const resolveCity = createCityResolver(await loadCityAliases(ctx.db));
    const source = ctx.sources.vkAds();
    const loadedAt = Math.floor(Date.now() / 1000);
    let rowsRead = 0;
    const result = await replaceWindow(
      ctx.db,
      STG_VK_ADS_DAILY,
      ctx.window,
      ctx.runId,
      async (tmp) => {
        for await (const batch of source.dailyBannerStats(ctx.window, ctx.signal)) {
          rowsRead += batch.recordsRead;
          await ctx.db.insert(
            tmp,
            batch.rows.map((r) => ({
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
              city: resolveCity([
                r.utmCampaign,
                r.utmContent,
                r.utmTerm,
                r.adGroupName,
                r.adPlanName,
                r.bannerName,
              ]),
              run_id: ctx.runId,
              loaded_at: loadedAt,
            })),
            ctx.signal,
          );
          ctx.logger.debug({ rows: batch.rows.length }, 'vk batch staged');
        }
      },
      ctx.signal,
    );
    return { rowsRead, rowsWritten: result.rowsWritten };
  },
};
