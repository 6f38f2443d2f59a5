/**
 * VK Ads API v2 source: the client the `vk_fetch` job uses, its options, and the response parsers
 * (exported for fixture tests). Source: https://ads.vk.com/doc/api/info/Statistics.
 */
export { createVkAdsClient, type VkAdsClient, type VkAdsClientOptions } from './client.js';
export {
  parseVkBody,
  parseVkError,
  VK_UPSTREAM,
  vkAdGroupSchema,
  vkAdPlanSchema,
  vkBannerSchema,
  vkDayStatsResponseSchema,
  vkLegacyCampaignSchema,
  vkListPageSchema,
  vkTokenResponseSchema,
  type VkAdGroup,
  type VkAdPlan,
  type VkBanner,
  type VkDayStatsResponse,
  type VkErrorInfo,
  type VkListPage,
} from './schemas.js';
export { VkTokenStoreError, type StoredVkToken } from './tokenStore.js';
export { resolveUtm, VK_DEFAULT_UTM_TEMPLATE, type UtmMacroContext, type UtmSources } from './utm.js';
export { sumRub, toRubString } from './money.js';
