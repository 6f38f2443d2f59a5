/**
 * What the fetch jobs need from the upstreams. The production clients (`vkAds/`, `qtickets/`)
 * implement these; jobs depend only on these shapes.
 */
import type { DateWindow, IsoDate } from '../time/dates.js';

/** UTM tags of an ad or an order; '' when absent. */
export interface UtmTags {
  utmSource: string;
  utmMedium: string;
  utmCampaign: string;
  utmContent: string;
  utmTerm: string;
}

/**
 * One banner's statistics for one day (VK Ads API v2 `statistics/banners/day.json`, `base`
 * metrics), joined with its banner, ad group and ad plan. Source:
 * https://ads.vk.com/doc/api/info/Statistics
 */
export interface VkBannerDayStat extends UtmTags {
  /** MSK calendar date of the statistics row. */
  statDate: IsoDate;
  adPlanId: number;
  adPlanName: string;
  adGroupId: number;
  adGroupName: string;
  bannerId: number;
  bannerName: string;
  /** `base.shows`. */
  impressions: number;
  clicks: number;
  /** `base.spent`, rubles, exact decimal with 2 fraction digits, e.g. "2841.57". */
  spendRub: string;
  /** The banner's `urls.primary.url` ('' when none). */
  landingUrl: string;
}

/** A batch of VK rows plus how many upstream records were read to produce it. */
export interface VkStatsBatch {
  rows: VkBannerDayStat[];
  /** Upstream records read for this batch (statistics rows), for `rows_read`. */
  recordsRead: number;
}

/** VK Ads, as the `vk_fetch` job sees it. */
export interface VkAdsSource {
  /**
   * Daily banner statistics for every day of `window`, in batches of at most 200 banners (memory
   * stays bounded by the batch, not the window).
   * @throws UpstreamAuthError, UpstreamHttpError, UpstreamNetworkError, UpstreamFormatError
   */
  dailyBannerStats(window: DateWindow, signal?: AbortSignal): AsyncIterable<VkStatsBatch>;
  /**
   * Proves the credentials work (gets or refreshes a token, reads one ad plan): for `etl doctor`.
   * @returns a one-line summary, e.g. "token ok; 19 ad plans (not deleted)".
   * @throws UpstreamAuthError, UpstreamHttpError, UpstreamNetworkError
   */
  checkAccess(signal?: AbortSignal): Promise<string>;
}

/** State of one ticket line (basket) of a paid order. */
export type SaleLineStatus = 'live' | 'refunded' | 'cancelled';

/**
 * One ticket line (QTickets basket) of an order paid in the window. Source:
 * https://qtickets.help/article/rest-api/ (`GET /orders`, `GET /events`).
 */
export interface QticketsSaleLine extends UtmTags {
  /** MSK calendar date of the order's `payed_at`. */
  saleDate: IsoDate;
  /** `payed_at` as unix seconds. */
  payedAtUnix: number;
  orderId: number;
  basketId: number;
  eventId: number;
  /** '' when the event is unknown. */
  eventName: string;
  showId: number;
  /** MSK calendar date of the show's `start_date`; null when the show is unknown. */
  eventDate: IsoDate | null;
  /** The event's `city.name` as QTickets spells it ('' when unknown). */
  cityName: string;
  /** Basket `price` after discounts, rubles, exact decimal with 2 fraction digits. */
  priceRub: string;
  /** Tickets in the line (`quantity`, default 1). */
  quantity: number;
  /** `cancelled` when the basket or order has `deleted_at`; `refunded` when it has `refunded_at`. */
  status: SaleLineStatus;
  /** `refunded_at` as unix seconds, null when not refunded. */
  refundedAtUnix: number | null;
  /** `refunded_amount` for refunded lines, rubles ("0.00" otherwise). */
  refundAmountRub: string;
  /** `currency_id` of the order, e.g. "RUB". */
  currency: string;
}

/** A page of QTickets orders turned into sale lines. */
export interface QticketsSalesBatch {
  lines: QticketsSaleLine[];
  /** Orders read from the upstream for this batch (before the local re-check), for `rows_read`. */
  recordsRead: number;
}

/** QTickets, as the `qtickets_fetch` job sees it. */
export interface QticketsSource {
  /**
   * Ticket lines of the orders paid within `window` (MSK dates, inclusive), one batch per page of
   * orders. Unpaid orders are skipped; the window is re-checked locally.
   * @throws UpstreamAuthError (401 or 403), UpstreamHttpError, UpstreamNetworkError, UpstreamFormatError
   */
  salesPaidIn(window: DateWindow, signal?: AbortSignal): AsyncIterable<QticketsSalesBatch>;
  /**
   * Proves the token works (reads the first page of events): for `etl doctor`.
   * @returns a one-line summary, e.g. "token ok; 42 events".
   * @throws UpstreamAuthError, UpstreamHttpError, UpstreamNetworkError
   */
  checkAccess(signal?: AbortSignal): Promise<string>;
}
