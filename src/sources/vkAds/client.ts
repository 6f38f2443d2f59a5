/**
 * VK Ads API v2 client for the `vk_fetch` job: lists ad plans, ad groups and banners, then pulls
 * daily banner statistics in batches of at most 200 ids and joins them into
 * {@link VkBannerDayStat} rows (names, UTM tags, exact ruble spend). Every HTTP call goes through
 * `sendWithRetry` (429/5xx retried); tokens come from a store shared across processes.
 * Sources: https://ads.vk.com/doc/api/info/Statistics, https://ads.vk.com/doc/api/info/Overview,
 * https://ads.vk.com/doc/api/resource/ads/{AdPlans,AdGroups,Banners}, reference §1.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { UpstreamAuthError, UpstreamFormatError, UpstreamHttpError, UsageError } from '../../errors.js';
import { bodyExcerpt, sendWithRetry, type HttpResponse, type RetryPolicy } from '../../http/request.js';
import { chunkWindow, isIsoDate, type DateWindow } from '../../time/dates.js';
import type { UtmTags, VkAdsSource, VkBannerDayStat, VkStatsBatch } from '../types.js';
import { toCount, toRubString } from './money.js';
import { VkRateGate } from './rateLimit.js';
import {
  parseVkBody,
  parseVkError,
  VK_UPSTREAM,
  vkAdGroupSchema,
  vkAdPlanSchema,
  vkBannerSchema,
  vkDayStatsResponseSchema,
  vkListPageSchema,
  type VkAdGroup,
  type VkAdPlan,
  type VkBanner,
  type VkDayStatsResponse,
} from './schemas.js';
import { VkTokenManager } from './tokens.js';
import { resolveUtm } from './utm.js';
import type { z } from 'zod';

/** Options of {@link createVkAdsClient}. */
export interface VkAdsClientOptions {
  /** API root, e.g. `https://ads.vk.com` (or `https://ads.vk.ru`, or a sandbox URL); paths are `/api/v2/…`. */
  apiUrl: string;
  /** `client_id` from the cabinet page Настройки → Доступ к API. */
  clientId: string;
  /** `client_secret` from the same page. Never logged. */
  clientSecret: string;
  /** JSON file that keeps the token pair across runs and processes (mode 0600; its directory is created). */
  tokenStorePath: string;
  /** Retry policy of every HTTP call (429, 5xx and network errors are retried). */
  retry: RetryPolicy;
  /** Structured logger; no token or secret is ever passed to it. @default silent */
  logger?: Logger | undefined;
  /** Current time, unix ms (token expiry, quota windows). @default Date.now */
  now?: (() => number) | undefined;
  /** Waits `ms` (the 1 s pause when the per-second quota is used up); injectable for tests. @default a timer */
  sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
  /** Refresh the access token when it expires within this many ms. @default 300000 (5 min) */
  tokenRefreshMarginMs?: number | undefined;
  /** How long to wait for another process refreshing the token, ms. @default 60000 */
  tokenLockWaitMs?: number | undefined;
  /** Days per statistics request; longer windows are split. VK serves only the last 366 days. @default 366 */
  statsMaxDaysPerRequest?: number | undefined;
  /** Banner ids per statistics request, 1..200 (VK's limit is 200). @default 200 */
  statsMaxIdsPerRequest?: number | undefined;
}

/** The VK Ads client: the {@link VkAdsSource} the job uses, plus the listings and token housekeeping. */
export interface VkAdsClient extends VkAdsSource {
  /**
   * Ad plans (UI campaigns) that are not deleted: `GET /api/v2/ad_plans.json?fields=id,name,status&_status__in=active,blocked`,
   * every page.
   */
  listAdPlans(signal?: AbortSignal): Promise<VkAdPlan[]>;
  /**
   * Ad groups that are not deleted: `GET /api/v2/ad_groups.json?fields=id,name,status,ad_plan_id,enable_utm,utm&_status__in=active,blocked`.
   */
  listAdGroups(signal?: AbortSignal): Promise<VkAdGroup[]>;
  /** Banners that are not deleted: `GET /api/v2/banners.json?fields=id,name,status,ad_group_id,urls&_status__in=active,blocked`. */
  listBanners(signal?: AbortSignal): Promise<VkBanner[]>;
  /**
   * Deletes ALL API tokens of the user for this client id (`POST /api/v2/oauth2/token/delete.json`)
   * and empties the token store: the remedy for the 5-token limit. Other programs using the same
   * client id lose their tokens as well.
   */
  deleteAllTokens(signal?: AbortSignal): Promise<void>;
}

/** Everything a statistics row is joined with. */
interface BannerContext extends UtmTags {
  adPlanId: number;
  adPlanName: string;
  adGroupId: number;
  adGroupName: string;
  bannerId: number;
  bannerName: string;
  landingUrl: string;
}

const LIST_PAGE_LIMIT = 50;
const NOT_DELETED = 'active,blocked';
const MAX_PAGES = 10_000;

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
const defaultSleep = (ms: number, signal?: AbortSignal): Promise<void> => sleep(ms, undefined, { signal });

/** Query string with readable commas (VK's examples use `id=1,2,3`). */
function queryString(query: Record<string, string>): string {
  return Object.entries(query)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v).replace(/%2C/gi, ',')}`)
    .join('&');
}

function hintFor(code: string | undefined): string {
  switch (code) {
    case 'ERR_LIMIT_EXCEEDED':
      return ' VK serves daily statistics only for the last 366 days and at most 200 objects per request; narrow the window.';
    case 'ERR_WRONG_DATE':
      return ' Check the window dates (YYYY-MM-DD, from ≤ to).';
    case 'ERR_WRONG_PARAMETER':
      return ' This is a bug in the request; report it with this message.';
    default:
      return '';
  }
}

/**
 * Creates a VK Ads API v2 client.
 *
 * Tokens: the pair in `tokenStorePath` is reused across runs and processes; it is refreshed
 * (`grant_type=refresh_token`) when it expires within `tokenRefreshMarginMs` or after a 401
 * `expired_token`/`invalid_token` (then the call is retried once), and minted anew
 * (`client_credentials`) only when the store is empty or VK refuses the refresh token.
 *
 * Rate limits: when `X-RateLimit-RPS-Remaining` is 0 the next call waits 1 s; when the hourly or
 * daily remaining is 0 the next call throws instead of sleeping for hours.
 *
 * @throws (from the returned methods) UpstreamAuthError (401/403, the 5-token limit, a refused
 *   client id or secret), UpstreamHttpError (other non-2xx, with VK's error code in
 *   `upstreamCode`; exhausted quotas), UpstreamNetworkError, UpstreamFormatError (a body of the
 *   wrong shape), VkTokenStoreError (the store cannot be locked or written), UsageError (a bad window).
 *   No message contains the client secret or a token.
 */
export function createVkAdsClient(options: VkAdsClientOptions): VkAdsClient {
  const apiUrl = options.apiUrl.replace(/\/+$/, '');
  const now = options.now ?? Date.now;
  const logger = options.logger;
  const maxIds = Math.max(1, Math.min(200, options.statsMaxIdsPerRequest ?? 200));
  const maxDays = Math.max(1, Math.min(366, options.statsMaxDaysPerRequest ?? 366));
  const tokens = new VkTokenManager({
    apiUrl,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    tokenStorePath: options.tokenStorePath,
    retry: options.retry,
    logger,
    now,
    refreshMarginMs: options.tokenRefreshMarginMs ?? 300_000,
    lockWaitMs: options.tokenLockWaitMs ?? 60_000,
  });
  const gate = new VkRateGate(now, options.sleep ?? defaultSleep);

  async function send(
    url: string,
    accessToken: string,
    what: string,
    signal?: AbortSignal,
  ): Promise<HttpResponse> {
    try {
      const res = await sendWithRetry(
        {
          method: 'GET',
          url,
          headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
          signal,
        },
        { upstream: VK_UPSTREAM, policy: options.retry, logger },
      );
      gate.observe(res.headers);
      return res;
    } catch (error: unknown) {
      if (error instanceof UpstreamHttpError) {
        const hint =
          error.status === 429
            ? 'VK Ads kept rate-limiting the requests; run the job again later'
            : 'VK Ads had a server error; run the job again later';
        throw new UpstreamHttpError(
          VK_UPSTREAM,
          error.status,
          error.upstreamCode,
          tokens.scrub(`${error.message.replace(/^vk_ads: /, `${VK_UPSTREAM}: ${what}: `)}. ${hint}`),
          { cause: error },
        );
      }
      throw error;
    }
  }

  function toError(res: HttpResponse, what: string): UpstreamHttpError {
    const { code, message } = parseVkError(res.bodyText);
    const detail = `HTTP ${res.status}${code ? ` ${code}` : ''}: ${message ?? bodyExcerpt(res.bodyText, 160)}`;
    if (res.status === 401) {
      return new UpstreamAuthError(
        VK_UPSTREAM,
        401,
        code,
        tokens.scrub(
          `${VK_UPSTREAM}: VK Ads refused the access token for ${what} (${detail}). Check that API access is still ` +
            `enabled for this account (Настройки → Доступ к API) and that the user is not blocked.`,
        ),
      );
    }
    if (res.status === 403) {
      return new UpstreamAuthError(
        VK_UPSTREAM,
        403,
        code,
        tokens.scrub(
          `${VK_UPSTREAM}: VK Ads denied ${what} (${detail}); the account has no rights to this method.`,
        ),
      );
    }
    return new UpstreamHttpError(
      VK_UPSTREAM,
      res.status,
      code,
      tokens.scrub(`${VK_UPSTREAM}: ${what} failed (${detail}).${hintFor(code)}`),
    );
  }

  /** One authorized GET; returns the 2xx body text. */
  async function get(pathname: string, query: Record<string, string>, signal?: AbortSignal): Promise<string> {
    const url = `${apiUrl}${pathname}?${queryString(query)}`;
    const what = `GET ${pathname}`;
    await gate.beforeCall(what, signal);
    let accessToken = await tokens.accessToken(signal);
    let res = await send(url, accessToken, what, signal);
    if (res.status === 401) {
      const { code } = parseVkError(res.bodyText);
      if (code === 'expired_token' || code === 'invalid_token') {
        logger?.info(
          { upstream: VK_UPSTREAM, code, url: pathname },
          'vk_ads access token refused; renewing it once',
        );
        accessToken = await tokens.replaceRejected(accessToken, signal);
        await gate.beforeCall(what, signal);
        res = await send(url, accessToken, what, signal);
      }
    }
    if (res.status >= 200 && res.status < 300) return res.bodyText;
    throw toError(res, what);
  }

  /** Every page of a collection (`limit=50`, offset pagination until `offset + items >= count`). */
  async function listAll<S extends z.ZodType>(
    resource: string,
    fields: string,
    filters: Record<string, string>,
    itemSchema: S,
    signal?: AbortSignal,
  ): Promise<Array<z.output<S>>> {
    const pageSchema = vkListPageSchema(itemSchema);
    const pathname = `/api/v2/${resource}.json`;
    const items: Array<z.output<S>> = [];
    let offset = 0;
    for (let page = 0; page < MAX_PAGES; page++) {
      const query = { fields, limit: String(LIST_PAGE_LIMIT), offset: String(offset), ...filters };
      const body = parseVkBody(
        await get(pathname, query, signal),
        pageSchema,
        `GET ${pathname} (offset ${offset})`,
      );
      items.push(...(body.items as Array<z.output<S>>));
      offset += body.items.length;
      if (body.items.length === 0 || offset >= body.count) return items;
    }
    throw new UpstreamFormatError(
      VK_UPSTREAM,
      `${VK_UPSTREAM}: GET ${pathname} did not end after ${MAX_PAGES} pages`,
    );
  }

  const notDeleted = <T extends { status?: string | undefined }>(items: T[]): T[] =>
    items.filter((i) => i.status !== 'deleted');

  const listAdPlans = async (signal?: AbortSignal) =>
    notDeleted(
      await listAll('ad_plans', 'id,name,status', { _status__in: NOT_DELETED }, vkAdPlanSchema, signal),
    );
  const listAdGroups = async (signal?: AbortSignal) =>
    notDeleted(
      await listAll(
        'ad_groups',
        'id,name,status,ad_plan_id,enable_utm,utm',
        { _status__in: NOT_DELETED },
        vkAdGroupSchema,
        signal,
      ),
    );
  const listBanners = async (signal?: AbortSignal) =>
    notDeleted(
      await listAll(
        'banners',
        'id,name,status,ad_group_id,urls',
        { _status__in: NOT_DELETED },
        vkBannerSchema,
        signal,
      ),
    );

  /** Banner id → everything its rows are joined with; banners of deleted groups or plans are left out. */
  async function loadBannerContexts(signal?: AbortSignal): Promise<Map<number, BannerContext>> {
    const plans = new Map((await listAdPlans(signal)).map((p) => [p.id, p]));
    const groups = new Map(
      (await listAdGroups(signal)).filter((g) => plans.has(g.ad_plan_id)).map((g) => [g.id, g]),
    );
    const banners = await listBanners(signal);
    const contexts = new Map<number, BannerContext>();
    for (const banner of banners) {
      const group = groups.get(banner.ad_group_id);
      const plan = group && plans.get(group.ad_plan_id);
      if (!group || !plan) continue;
      const landingUrl = banner.urls.primary?.url ?? '';
      const macros = {
        adPlanId: plan.id,
        adPlanName: plan.name,
        adGroupId: group.id,
        adGroupName: group.name,
        bannerId: banner.id,
      };
      contexts.set(banner.id, {
        ...macros,
        bannerName: banner.name,
        landingUrl,
        ...resolveUtm({
          enableUtm: group.enable_utm ?? undefined,
          groupTemplate: group.utm,
          landingUrl,
          macros,
        }),
      });
    }
    logger?.info(
      { upstream: VK_UPSTREAM, adPlans: plans.size, adGroups: groups.size, banners: contexts.size },
      'vk_ads objects listed',
    );
    return contexts;
  }

  /**
   * Statistics for `ids` over `window`. A 400 ERR_WRONG_BANNERS (one id not found or not
   * accessible fails the whole request) is answered by splitting the batch in halves until the
   * bad ids are isolated; those are dropped and reported in `dropped`.
   */
  async function fetchStats(
    ids: number[],
    window: DateWindow,
    dropped: number[],
    signal?: AbortSignal,
  ): Promise<VkDayStatsResponse['items']> {
    const pathname = '/api/v2/statistics/banners/day.json';
    try {
      const text = await get(
        pathname,
        { id: ids.join(','), date_from: window.fromDate, date_to: window.toDate, metrics: 'base' },
        signal,
      );
      return parseVkBody(text, vkDayStatsResponseSchema, `GET ${pathname}`).items;
    } catch (error: unknown) {
      const wrongIds =
        error instanceof UpstreamHttpError &&
        !(error instanceof UpstreamAuthError) &&
        error.status === 400 &&
        error.upstreamCode === 'ERR_WRONG_BANNERS';
      if (!wrongIds) throw error;
      if (ids.length === 1) {
        dropped.push(ids[0] as number);
        return [];
      }
      const half = Math.ceil(ids.length / 2);
      return [
        ...(await fetchStats(ids.slice(0, half), window, dropped, signal)),
        ...(await fetchStats(ids.slice(half), window, dropped, signal)),
      ];
    }
  }

  function toRows(
    items: VkDayStatsResponse['items'],
    contexts: Map<number, BannerContext>,
    window: DateWindow,
  ): VkStatsBatch {
    const rows: VkBannerDayStat[] = [];
    let recordsRead = 0;
    for (const item of items) {
      const ctx = contexts.get(item.id);
      if (!ctx) {
        logger?.warn(
          { upstream: VK_UPSTREAM, bannerId: item.id },
          'vk_ads statistics for a banner that was not requested; ignored',
        );
        continue;
      }
      for (const row of item.rows) {
        recordsRead++;
        if (row.date < window.fromDate || row.date > window.toDate) {
          throw new UpstreamFormatError(
            VK_UPSTREAM,
            `${VK_UPSTREAM}: statistics of banner ${item.id} contain ${row.date}, outside the requested ${window.fromDate}..${window.toDate}`,
          );
        }
        const impressions = toCount(row.base.shows);
        const clicks = toCount(row.base.clicks);
        const spendRub = toRubString(row.base.spent);
        if (impressions === undefined || clicks === undefined || spendRub === undefined) {
          throw new UpstreamFormatError(
            VK_UPSTREAM,
            `${VK_UPSTREAM}: statistics of banner ${item.id} on ${row.date} have a non-numeric shows, clicks or spent`,
          );
        }
        // VK returns a row for every day of the range; all-zero days are not activity and are not kept.
        if (impressions === 0 && clicks === 0 && spendRub === '0.00') continue;
        rows.push({ statDate: row.date, ...ctx, impressions, clicks, spendRub });
      }
    }
    return { rows, recordsRead };
  }

  async function* dailyBannerStats(window: DateWindow, signal?: AbortSignal): AsyncGenerator<VkStatsBatch> {
    if (!isIsoDate(window.fromDate) || !isIsoDate(window.toDate) || window.fromDate > window.toDate) {
      throw new UsageError(`vk_ads: bad statistics window ${window.fromDate}..${window.toDate}`);
    }
    const contexts = await loadBannerContexts(signal);
    let ids = [...contexts.keys()].sort((a, b) => a - b);
    for (const chunk of chunkWindow(window, maxDays)) {
      const refused = new Set<number>();
      for (let i = 0; i < ids.length; i += maxIds) {
        const batchIds = ids.slice(i, i + maxIds);
        const dropped: number[] = [];
        const items = await fetchStats(batchIds, chunk, dropped, signal);
        if (dropped.length > 0) {
          for (const id of dropped) refused.add(id);
          logger?.warn(
            { upstream: VK_UPSTREAM, bannerIds: dropped, fromDate: chunk.fromDate, toDate: chunk.toDate },
            'vk_ads refused statistics for some banners (ERR_WRONG_BANNERS: deleted or not accessible); they were skipped',
          );
        }
        yield toRows(items, contexts, chunk);
      }
      // Every banner refused means the account or the token lost access, not a few deleted ads:
      // fail rather than let the job replace the window with nothing.
      if (ids.length > 0 && refused.size === ids.length) {
        throw new UpstreamHttpError(
          VK_UPSTREAM,
          400,
          'ERR_WRONG_BANNERS',
          `${VK_UPSTREAM}: VK Ads refused statistics for all ${ids.length} banners of the account (ERR_WRONG_BANNERS); ` +
            'check that the API client still has access to this account',
        );
      }
      // Do not bisect the same refused ids again in the next chunk of a long window.
      if (refused.size > 0) ids = ids.filter((id) => !refused.has(id));
    }
  }

  return {
    dailyBannerStats,
    listAdPlans,
    listAdGroups,
    listBanners,
    deleteAllTokens: (signal?: AbortSignal) => tokens.deleteAll(signal),
    async checkAccess(signal?: AbortSignal) {
      const pathname = '/api/v2/ad_plans.json';
      const body = parseVkBody(
        await get(pathname, { fields: 'id,name,status', limit: '1', _status__in: NOT_DELETED }, signal),
        vkListPageSchema(vkAdPlanSchema),
        `GET ${pathname}`,
      );
      return `token ok; ${body.count} ad plans (not deleted)`;
    },
  };
}
