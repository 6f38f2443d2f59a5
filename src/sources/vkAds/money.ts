/**
 * Exact money and counter parsing for VK Ads statistics. VK sends money as decimal strings
 * ("2841.57") and sometimes as JSON numbers; counters as ints or numeric strings. Money never goes
 * through `parseFloat`: a decimal library keeps sums exact. Source:
 * https://ads.vk.com/doc/api/info/Statistics (the `base` metric set).
 */
import { Decimal } from 'decimal.js';

/** A private Decimal constructor, so no other module's global Decimal settings leak in. */
const Money = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP });

const DECIMAL_TEXT = /^-?\d+(\.\d+)?$/;

/**
 * Rubles as an exact decimal string with 2 fraction digits ("2841.57", "0.00", "-1.20").
 * @param value `spent` as VK sends it: a decimal string or a finite JSON number.
 * @returns the value rounded half-up to kopecks, or undefined when it is not a plain decimal
 *   (callers turn that into an UpstreamFormatError naming the field).
 */
export function toRubString(value: string | number): string | undefined {
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : value.trim();
  // String(1e21) is exponential; such a spend is not a plausible day of ads anyway.
  if (!DECIMAL_TEXT.test(text)) return undefined;
  return new Money(text).toFixed(2);
}

/**
 * Sum of ruble strings, exact, with 2 fraction digits. Used by tests and reports that total
 * `spendRub` values.
 */
export function sumRub(values: Iterable<string>): string {
  let total = new Money(0);
  for (const v of values) total = total.plus(v);
  return total.toFixed(2);
}

/**
 * A whole counter (shows, clicks, goals) from a JSON number or a numeric string. Negative values
 * pass through unchanged so that the anomaly checks downstream can see them.
 * @returns undefined when the value is not a whole number.
 */
export function toCount(value: string | number): number | undefined {
  const n = typeof value === 'number' ? value : /^\s*-?\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  return Number.isSafeInteger(n) ? n : undefined;
}
