/**
 * Finds the city an ad is about from its texts (UTM tags, group, plan and banner names), using the
 * alias dictionary `zakaz.dim_city_alias` (alias → canonical city). Ad texts are written by people:
 * "Щелкунчик Москва", "Холодное сердце СПб", `utm_campaign=spb_autumn`, `moscow-25-45`; so matching
 * works on whole words after normalising case, "ё" and separators.
 */

/** One row of the alias dictionary: `alias` ("спб", "saint petersburg") → `city` ("Санкт-Петербург"). */
export interface CityAlias {
  alias: string;
  city: string;
}

/**
 * Resolves texts to a canonical city name.
 * @param texts candidate texts in priority order; the job passes
 *   `[utmCampaign, utmContent, utmTerm, adGroupName, adPlanName, bannerName]`.
 * @returns the city of the first text that contains a known alias, or '' when none does.
 */
export type CityResolver = (texts: ReadonlyArray<string>) => string;

/** Lower-cases, maps ё→е and splits on every character that is not a letter or a digit (so `_` and `-` separate words). */
export function cityTokens(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/ё/g, 'е')
    .split(/[^\p{L}\p{N}]+/u)
    .filter((t) => t !== '');
}

/**
 * Builds a resolver from the alias dictionary.
 *
 * Matching rules:
 * - an alias matches a whole word, or a sequence of consecutive words for multi-word aliases
 *   ("санкт петербург", "нижний новгород", "saint petersburg"), never a part of a word
 *   ("омск" does not match "томск");
 * - case-insensitive, "ё" equals "е", Latin and Cyrillic alike; aliases are tokenised the same
 *   way as texts, so the alias "санкт-петербург" also matches "Санкт Петербург" and `sankt_peterburg`
 *   matches the alias "sankt peterburg";
 * - texts are tried in the given order and the first one with any match decides; inside a text the
 *   leftmost match wins, and at the same position the longest alias ("нижний новгород" before
 *   "новгород");
 * - when two dictionary rows have the same alias, the first row wins.
 *
 * @param aliases the dictionary; rows whose alias has no letters or digits are ignored.
 * @returns a pure function; the dictionary is copied, later changes to `aliases` have no effect.
 */
export function createCityResolver(aliases: ReadonlyArray<CityAlias>): CityResolver {
  // First token → candidate aliases starting with it, longest first.
  const byFirstToken = new Map<string, Array<{ tokens: string[]; city: string }>>();
  const seen = new Set<string>();
  for (const { alias, city } of aliases) {
    const tokens = cityTokens(alias);
    const key = tokens.join(' ');
    if (tokens.length === 0 || seen.has(key)) continue;
    seen.add(key);
    const first = tokens[0] as string;
    const list = byFirstToken.get(first) ?? [];
    list.push({ tokens, city });
    byFirstToken.set(first, list);
  }
  for (const list of byFirstToken.values()) list.sort((a, b) => b.tokens.length - a.tokens.length);

  const findIn = (text: string): string | undefined => {
    const words = cityTokens(text);
    for (let i = 0; i < words.length; i++) {
      const candidates = byFirstToken.get(words[i] as string);
      if (!candidates) continue;
      for (const { tokens, city } of candidates) {
        if (tokens.every((t, k) => words[i + k] === t)) return city;
      }
    }
    return undefined;
  };

  return (texts) => {
    for (const text of texts) {
      const city = findIn(text);
      if (city !== undefined) return city;
    }
    return '';
  };
}
