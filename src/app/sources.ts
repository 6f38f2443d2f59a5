/**
 * Production upstream clients, created on first use from the configuration (a build job never
 * needs credentials). Tests and the demo point the same clients at local servers through the
 * base URLs in the config.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/loadConfig.js';
import { ConfigError } from '../errors.js';
import type { RetryPolicy } from '../http/request.js';
import type { Sources } from '../runner/job.js';
import { createQticketsClient } from '../sources/qtickets/index.js';
import type { QticketsSource, VkAdsSource } from '../sources/types.js';
import { createVkAdsClient } from '../sources/vkAds/index.js';

/** The retry policy of upstream calls, from `HTTP_*`. */
export function retryPolicy(config: Config): RetryPolicy {
  return {
    retries: config.http.retries,
    minDelayMs: config.http.retryMinDelayMs,
    maxDelayMs: Math.max(config.http.retryMinDelayMs, 30_000),
    attemptTimeoutMs: config.http.timeoutMs,
  };
}

/** Where the VK Ads token pair is kept between runs (next to the other local state). */
export function vkTokenStorePath(config: Config): string {
  return path.join(config.dataDir, 'vk_ads_token.json');
}

/** Lazily created production clients. @throws ConfigError on first use when credentials are missing. */
export function createSources(config: Config, logger: Logger): Sources {
  let vk: VkAdsSource | undefined;
  let qt: QticketsSource | undefined;
  return {
    vkAds() {
      const { clientId, clientSecret, apiUrl } = config.vkAds;
      if (!clientId || !clientSecret)
        throw new ConfigError(['VK_ADS_CLIENT_ID and VK_ADS_CLIENT_SECRET are required']);
      vk ??= createVkAdsClient({
        apiUrl,
        clientId,
        clientSecret,
        tokenStorePath: vkTokenStorePath(config),
        retry: retryPolicy(config),
        logger,
      });
      return vk;
    },
    qtickets() {
      const { token, apiUrl } = config.qtickets;
      if (!token) throw new ConfigError(['QTICKETS_TOKEN is required']);
      qt ??= createQticketsClient({
        apiUrl,
        token,
        timezone: config.timezone,
        retry: retryPolicy(config),
        logger,
      });
      return qt;
    },
  };
}
