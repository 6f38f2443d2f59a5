/**
 * Response shapes of VK Ads API v2, as zod schemas, and the parser every response goes through.
 * Lenient where the API's own examples disagree on types (ids and counters may be quoted, money
 * may be a string or a number, `expires_in` a string or a number, `scope` a string or an array);
 * strict on what the loader needs (ids, names, dates). Sources:
 * https://ads.vk.com/doc/api/info/Authorization, https://ads.vk.com/doc/api/info/Statistics,
 * https://ads.vk.com/doc/api/object/ads/{AdPlan,AdGroup,Banner,Urls}, reference §1.2–§1.5.
 */
import { z } from 'zod';
import { UpstreamFormatError } from '../../errors.js';
import { isIsoDate } from '../../time/dates.js';

/** Upstream name used in errors and logs. */
export const VK_UPSTREAM = 'vk_ads';

/** A whole number sent as a JSON number or a numeric string ("123"). */
export const vkIntSchema = z.union([
  z.number().int(),
  z
    .string()
    .regex(/^\s*-?\d+\s*$/, 'expected a whole number')
    .transform((s) => Number(s)),
]);

/** An object id: a positive whole number (a quoted one is accepted). */
export const vkIdSchema = vkIntSchema.refine(
  (n) => Number.isSafeInteger(n) && n > 0,
  'expected a positive id',
);

/** A decimal money or ratio value as VK sends it: "2841.57" or 2841.57. Kept raw for decimal.js. */
export const vkDecimalSchema = z.union([
  z.number().refine(Number.isFinite, 'expected a finite number'),
  z.string().regex(/^\s*-?\d+(\.\d+)?\s*$/, 'expected a decimal number'),
]);

const vkBooleanSchema = z.union([
  z.boolean(),
  z.enum(['true', 'false']).transform((s) => s === 'true'),
  z.union([z.literal(0), z.literal(1)]).transform((n) => n === 1),
]);

/**
 * `POST /api/v2/oauth2/token.json` success body. `expires_in` is seconds (the
 * client_credentials and refresh grants send it as the string "86400").
 */
export const vkTokenResponseSchema = z.object({
  access_token: z.string().min(1),
  /** Always present on `client_credentials`; a refresh answer without it keeps the old one. */
  refresh_token: z.string().min(1).optional(),
  expires_in: vkIntSchema.refine((n) => n > 0, 'expected a positive number of seconds'),
  token_type: z.string().optional(),
  scope: z.union([z.string(), z.array(z.string())]).optional(),
});
/** A parsed token response; `expires_in` in seconds. */
export type VkTokenResponse = z.infer<typeof vkTokenResponseSchema>;

/**
 * A page of a collection resource: `{count, offset, limit, items}`. `count` is the total after
 * filters; `limit` is optional (the recorded `ad_plans.json` has none).
 */
export function vkListPageSchema<T extends z.ZodType>(item: T) {
  return z.object({
    count: vkIntSchema,
    offset: vkIntSchema.optional(),
    limit: vkIntSchema.optional(),
    items: z.array(item),
  });
}
/** A parsed page of `T`. */
export interface VkListPage<T> {
  count: number;
  offset?: number | undefined;
  limit?: number | undefined;
  items: T[];
}

/**
 * An ad plan (UI "Кампания") from `GET /api/v2/ad_plans.json?fields=id,name,status`. `status`
 * is `active|blocked|deleted`; optional because the default field set omits it.
 */
export const vkAdPlanSchema = z.object({
  id: vkIdSchema,
  name: z.string(),
  status: z.string().optional(),
});
/** A parsed ad plan. */
export type VkAdPlan = z.infer<typeof vkAdPlanSchema>;

/**
 * An ad group (UI "Группа объявлений", legacy "campaign") from
 * `GET /api/v2/ad_groups.json?fields=id,name,status,ad_plan_id,enable_utm,utm`. `utm` is a
 * query-string template with `{{macros}}`, or null.
 */
export const vkAdGroupSchema = z.object({
  id: vkIdSchema,
  name: z.string(),
  status: z.string().optional(),
  ad_plan_id: vkIdSchema,
  enable_utm: vkBooleanSchema.nullish(),
  utm: z.string().nullish(),
});
/** A parsed ad group (`enable_utm` normalised to a boolean). */
export type VkAdGroup = z.infer<typeof vkAdGroupSchema>;

/**
 * An item of the legacy `GET /api/v2/campaigns.json` with its default fields (`id,name,package_id`):
 * the same ids as ad groups, without `ad_plan_id`.
 */
export const vkLegacyCampaignSchema = z.object({
  id: vkIdSchema,
  name: z.string(),
  package_id: vkIntSchema.optional(),
});
/** A parsed legacy campaign (= ad group) with default fields. */
export type VkLegacyCampaign = z.infer<typeof vkLegacyCampaignSchema>;

const vkUrlSlotSchema = z.object({ url: z.string().nullish() }).nullish();

/**
 * A banner (UI "Объявление") from `GET /api/v2/banners.json?fields=id,name,status,ad_group_id,urls`.
 * `urls` maps slot names (usually `primary`) to `{id, url, …}`; it may be absent, null, `{}` or `[]`.
 */
export const vkBannerSchema = z.object({
  id: vkIdSchema,
  name: z
    .string()
    .nullish()
    .transform((s) => s ?? ''),
  status: z.string().optional(),
  ad_group_id: vkIdSchema,
  urls: z
    .union([z.record(z.string(), vkUrlSlotSchema), z.array(z.unknown())])
    .nullish()
    .transform((u) => (u === null || u === undefined || Array.isArray(u) ? {} : u)),
});
/** A parsed banner (`urls` normalised to an object, `name` to a string). */
export type VkBanner = z.infer<typeof vkBannerSchema>;

/** The `base` metric set of one statistics row. Only the fields the loader uses are required. */
export const vkBaseMetricsSchema = z.object({
  shows: vkIntSchema,
  clicks: vkIntSchema,
  goals: vkIntSchema.optional(),
  /** Spend in the account currency (rubles), exact decimal. */
  spent: vkDecimalSchema,
});

const isoDateSchema = z.string().refine(isIsoDate, 'expected a date YYYY-MM-DD');

/**
 * `GET /api/v2/statistics/{banners|ad_groups|ad_plans}/day.json?metrics=base` body:
 * `{items: [{id, rows: [{date, base}], total}], total}`. Rows cover every date of the range,
 * including all-zero days.
 */
export const vkDayStatsResponseSchema = z.object({
  items: z.array(
    z.object({
      id: vkIdSchema,
      rows: z.array(z.object({ date: isoDateSchema, base: vkBaseMetricsSchema })),
      total: z.unknown().optional(),
    }),
  ),
  total: z.unknown().optional(),
});
/** A parsed daily statistics response. */
export type VkDayStatsResponse = z.infer<typeof vkDayStatsResponseSchema>;

/** A VK error code and message, from any of the error body shapes VK uses. */
export interface VkErrorInfo {
  code: string | undefined;
  message: string | undefined;
}

/**
 * Reads the error code from an error body: `{"error":{"code","message"}}` (statistics and
 * resources), `{"code","message"}` (token errors on API calls) or OAuth's
 * `{"error":"…","error_description":"…"}` (token endpoint). Never throws.
 */
export function parseVkError(bodyText: string): VkErrorInfo {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    return { code: undefined, message: undefined };
  }
  if (typeof body !== 'object' || body === null) return { code: undefined, message: undefined };
  const b = body as Record<string, unknown>;
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  if (typeof b.error === 'object' && b.error !== null) {
    const e = b.error as Record<string, unknown>;
    return { code: str(e.code), message: str(e.message) };
  }
  if (typeof b.error === 'string')
    return { code: b.error, message: str(b.error_description) ?? str(b.message) };
  return { code: str(b.code), message: str(b.message) };
}

/**
 * Parses a 2xx body against `schema`.
 * @param what what was requested, for the message (e.g. `GET /api/v2/banners.json`).
 * @throws UpstreamFormatError naming the request and the first problems (paths and expectations,
 *   never the values, so no token can leak into the message).
 */
export function parseVkBody<T extends z.ZodType>(bodyText: string, schema: T, what: string): z.output<T> {
  let json: unknown;
  try {
    json = JSON.parse(bodyText);
  } catch (error: unknown) {
    throw new UpstreamFormatError(VK_UPSTREAM, `${VK_UPSTREAM}: ${what} returned a body that is not JSON`, {
      cause: error,
    });
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(body)'}: ${i.message}`)
      .join('; ');
    throw new UpstreamFormatError(
      VK_UPSTREAM,
      `${VK_UPSTREAM}: ${what} returned an unexpected shape (${problems}); the VK Ads API may have changed`,
    );
  }
  return result.data;
}
