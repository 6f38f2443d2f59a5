/**
 * UTM tags of a VK Ads banner: the ad group's `utm` template (a query string with `{{macros}}`)
 * merged with the query of the banner's landing URL. The group's tags win over the link's tags of
 * the same name. Sources: https://ads.vk.com/doc/api/object/ads/AdGroup (`enable_utm`, `utm`),
 * the VK Ads help page "UTM-метки" and reference §1.5 ("Where UTM values live").
 */
import type { UtmTags } from '../types.js';

/** Values the macros of a UTM template expand to. */
export interface UtmMacroContext {
  adPlanId: number;
  adPlanName: string;
  adGroupId: number;
  adGroupName: string;
  bannerId: number;
}

/**
 * The template VK applies when a group has `enable_utm: true` and no `utm` of its own
 * ("If not specified and enable_utm=true, the tags will be generated automatically").
 */
export const VK_DEFAULT_UTM_TEMPLATE =
  'utm_medium=cpc&utm_source=vk_ads&utm_campaign={{campaign_id}}&utm_content={{banner_id}}';

const UTM_KEYS = {
  utm_source: 'utmSource',
  utm_medium: 'utmMedium',
  utm_campaign: 'utmCampaign',
  utm_content: 'utmContent',
  utm_term: 'utmTerm',
} as const satisfies Record<string, keyof UtmTags>;

function macroValue(name: string, ctx: UtmMacroContext): string {
  switch (name) {
    // `{{campaign_id}}` is the ad GROUP id: "campaign" is the legacy myTarget name of a group.
    case 'campaign_id':
    case 'ad_group_id':
      return String(ctx.adGroupId);
    case 'campaign_name':
    case 'ad_group_name':
      return ctx.adGroupName;
    case 'ad_plan_id':
      return String(ctx.adPlanId);
    case 'ad_plan_name':
      return ctx.adPlanName;
    case 'banner_id':
      return String(ctx.bannerId);
    default:
      // {{geo}}, {{age}}, {{random}}, … are only known at click time.
      return '';
  }
}

/** Replaces every `{{macro}}` in `text`; unknown macros become ''. */
export function expandUtmMacros(text: string, ctx: UtmMacroContext): string {
  return text.replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, (_m, name: string) =>
    macroValue(name.toLowerCase(), ctx),
  );
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/**
 * Parses a UTM template (`utm_source=vk_ads&utm_campaign={{campaign_id}}`, a leading `?` is
 * allowed) into decoded key → value pairs with macros expanded. Keys are lower-cased; the last
 * occurrence of a key wins.
 */
export function parseUtmTemplate(template: string, ctx: UtmMacroContext): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of template
    .trim()
    .replace(/^[?&]+/, '')
    .split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = safeDecode(eq === -1 ? part : part.slice(0, eq))
      .trim()
      .toLowerCase();
    if (key === '') continue;
    // Decode before expanding, so an encoded macro (%7B%7Bbanner_id%7D%7D) expands too, and an
    // expanded name containing '%' or '&' is never decoded again.
    out.set(key, expandUtmMacros(safeDecode(eq === -1 ? '' : part.slice(eq + 1)), ctx).trim());
  }
  return out;
}

/** Query parameters of a landing URL (lower-cased keys); empty when the URL does not parse. */
export function urlQueryParams(url: string): Map<string, string> {
  const out = new Map<string, string>();
  if (url.trim() === '') return out;
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return out;
  }
  for (const [key, value] of parsed.searchParams) out.set(key.toLowerCase(), value.trim());
  return out;
}

/** What decides a banner's UTM tags. */
export interface UtmSources {
  /** The ad group's `enable_utm`; undefined when the API did not say. */
  enableUtm: boolean | undefined;
  /** The ad group's `utm` template; null/undefined when the group has none. */
  groupTemplate: string | null | undefined;
  /** The banner's `urls.primary.url`, '' when none. */
  landingUrl: string;
  macros: UtmMacroContext;
}

/**
 * The UTM tags a click on this banner carries. Precedence per tag: the group template's value
 * (macros expanded) when it is non-empty, else the landing URL's value, else ''. A template value
 * that expands to '' (an unknown macro such as `{{geo}}`) therefore does not erase the link's tag.
 * With `enableUtm === false` the group adds no tags; with `enableUtm === true` and no (or an empty) template, VK's
 * automatic template {@link VK_DEFAULT_UTM_TEMPLATE} applies.
 */
export function resolveUtm(sources: UtmSources): UtmTags {
  const own = sources.groupTemplate?.trim() ? sources.groupTemplate : undefined;
  const template =
    sources.enableUtm === false ? '' : (own ?? (sources.enableUtm === true ? VK_DEFAULT_UTM_TEMPLATE : ''));
  const fromGroup = parseUtmTemplate(template, sources.macros);
  const fromUrl = urlQueryParams(sources.landingUrl);
  const tags: UtmTags = { utmSource: '', utmMedium: '', utmCampaign: '', utmContent: '', utmTerm: '' };
  for (const [key, field] of Object.entries(UTM_KEYS)) {
    const groupValue = fromGroup.get(key) ?? '';
    tags[field] = groupValue !== '' ? groupValue : (fromUrl.get(key) ?? '');
  }
  return tags;
}
