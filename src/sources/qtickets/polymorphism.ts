/**
 * QTickets is a PHP (Laravel) backend: an empty associative array is serialised as `[]`, a missing
 * string as `""`, flags as `0/1`. These helpers turn such values into one TypeScript shape each,
 * leniently, because the fields they read (`utm`, `custom`, `fields`, `integrations`, `info`,
 * `is_active`, `name`) change shape between records of the same response.
 * Source: https://qtickets.help/article/rest-api/ and the recorded responses in
 * test/fixtures/qtickets/ (reference §2.10 item 7).
 */
import type { UtmTags } from '../types.js';

/** An associative value: `[]`, `""`, `null` or absent become `{}`. */
export type PhpAssoc = Record<string, unknown>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Normalises a PHP associative value: an object is returned as is; `[]`, `""`, `null` and
 * `undefined` give `{}`; a non-empty list is keyed by index (`{"0": …}`); any other scalar (e.g. a
 * `data-custom` string in `custom`) is kept under `value`.
 */
export function phpAssoc(value: unknown): PhpAssoc {
  if (isPlainObject(value)) return value;
  if (value === null || value === undefined || value === '') return {};
  if (Array.isArray(value)) return Object.fromEntries(value.map((v, i) => [String(i), v]));
  return { value };
}

/** A PHP flag (`true/false`, `0/1`, `"0"/"1"`) as a boolean; null when it is none of these. */
export function phpFlag(value: unknown): boolean | null {
  if (value === true || value === 1 || value === '1') return true;
  if (value === false || value === 0 || value === '0') return false;
  return null;
}

/** A tag value as text: strings trimmed, finite numbers printed (`62384014`), anything else ''. */
function tagText(value: unknown): string {
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return '';
}

/** Empty UTM tags (every field ''). */
export const NO_UTM: Readonly<UtmTags> = Object.freeze({
  utmSource: '',
  utmMedium: '',
  utmCampaign: '',
  utmContent: '',
  utmTerm: '',
});

/**
 * An order's `utm`: `[]` when the buyer came without tags, otherwise an object with any of
 * `utm_source`, `utm_medium`, `utm_campaign`, `utm_content`, `utm_term` (values are strings, also
 * when they look numeric, e.g. `"62384014"`). Absent or unusable values become ''.
 */
export function utmTags(value: unknown): UtmTags {
  if (!isPlainObject(value)) return { ...NO_UTM };
  return {
    utmSource: tagText(value.utm_source),
    utmMedium: tagText(value.utm_medium),
    utmCampaign: tagText(value.utm_campaign),
    utmContent: tagText(value.utm_content),
    utmTerm: tagText(value.utm_term),
  };
}

/**
 * A display name that may be a plain string or a per-language object (`{"ru": "…", "en": "…"}`,
 * read defensively as one public client does): the string, else `ru`, else the first non-empty
 * string value; '' when there is none.
 */
export function localizedText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (!isPlainObject(value)) return '';
  if (typeof value.ru === 'string' && value.ru !== '') return value.ru;
  for (const v of Object.values(value)) if (typeof v === 'string' && v !== '') return v;
  return '';
}
