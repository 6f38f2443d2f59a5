/**
 * Calendar-date arithmetic for business dates. A business date is an ISO calendar date
 * `YYYY-MM-DD` in the ETL time zone (`ETL_TIMEZONE`, default Europe/Moscow), independent of the
 * host's or the ClickHouse server's zone. All functions are pure: "now" is always a parameter.
 */
import { DateTime, IANAZone } from 'luxon';
import { UsageError } from '../errors.js';

/** An ISO calendar date `YYYY-MM-DD` (a business date in the ETL time zone). */
export type IsoDate = string;

/** An inclusive window of business dates. */
export interface DateWindow {
  /** First day, `YYYY-MM-DD`, inclusive. */
  fromDate: IsoDate;
  /** Last day, `YYYY-MM-DD`, inclusive; never before `fromDate`. */
  toDate: IsoDate;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** True when `zone` is a valid IANA time zone name such as `Europe/Moscow`. */
export function isValidZone(zone: string): boolean {
  return IANAZone.isValidZone(zone);
}

/** True when `text` is a real calendar date in `YYYY-MM-DD` form (rejects 2025-02-30, 2024-13-45). */
export function isIsoDate(text: string): boolean {
  return ISO_DATE.test(text) && DateTime.fromISO(text, { zone: 'UTC' }).isValid;
}

/**
 * Validates a user-supplied date: a real calendar date within ClickHouse's `Date` range.
 * @param label what the value is, for the message (e.g. `--from`).
 * @throws UsageError naming the value and the expected form.
 */
export function parseIsoDate(text: string, label: string): IsoDate {
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  if (!isIsoDate(text)) {
    throw new UsageError(`${label} must be a real calendar date YYYY-MM-DD, got "${shown}"`);
  }
  if (text < MIN_DATE || text > MAX_DATE) {
    throw new UsageError(
      `${label} must be between ${MIN_DATE} and ${MAX_DATE} (ClickHouse's Date range), got "${shown}"`,
    );
  }
  return text;
}

/** The range of ClickHouse's `Date` type; dates outside it would be stored silently changed. */
export const MIN_DATE: IsoDate = '1970-01-01';
export const MAX_DATE: IsoDate = '2149-06-06';

/** The business date of the instant `now` in `zone`. */
export function businessDate(now: Date, zone: string): IsoDate {
  return DateTime.fromJSDate(now, { zone }).toISODate() as IsoDate;
}

/** `date` shifted by `days` calendar days (negative goes back). */
export function addDays(date: IsoDate, days: number): IsoDate {
  return DateTime.fromISO(date, { zone: 'UTC' }).plus({ days }).toISODate() as IsoDate;
}

/** Number of days in the inclusive window (1 for a single day). */
export function windowDays(window: DateWindow): number {
  const from = DateTime.fromISO(window.fromDate, { zone: 'UTC' });
  const to = DateTime.fromISO(window.toDate, { zone: 'UTC' });
  return Math.round(to.diff(from, 'days').days) + 1;
}

/** Every date of the inclusive window, in order. */
export function eachDay(window: DateWindow): IsoDate[] {
  // Counted, not compared as text: past year 9999 ISO strings stop sorting as dates.
  const count = windowDays(window);
  return Array.from({ length: Math.max(0, count) }, (_, i) => addDays(window.fromDate, i));
}

/** Splits a window into consecutive chunks of at most `chunkDays` days. */
export function chunkWindow(window: DateWindow, chunkDays: number): DateWindow[] {
  const days = windowDays(window);
  const chunks: DateWindow[] = [];
  for (let offset = 0; offset < days; offset += chunkDays) {
    chunks.push({
      fromDate: addDays(window.fromDate, offset),
      toDate: addDays(window.fromDate, Math.min(offset + chunkDays, days) - 1),
    });
  }
  return chunks;
}

/**
 * The default window of the daily jobs (DESIGN §4): the last `days` business days up to and
 * including yesterday, e.g. for days = 3 and today 2026-11-30 → 2026-11-27..2026-11-29.
 */
export function trailingWindow(now: Date, zone: string, days: number): DateWindow {
  const yesterday = addDays(businessDate(now, zone), -1);
  return { fromDate: addDays(yesterday, -(days - 1)), toDate: yesterday };
}

/**
 * Builds a window from user input, filling missing ends from `fallback`.
 * @throws UsageError for impossible dates, a reversed window, or one longer than `maxDays`.
 */
export function resolveWindow(
  input: { from?: string | undefined; to?: string | undefined },
  fallback: DateWindow,
  maxDays: number,
): DateWindow {
  const fromDate = input.from !== undefined ? parseIsoDate(input.from, '--from') : undefined;
  const toDate = input.to !== undefined ? parseIsoDate(input.to, '--to') : undefined;
  const window: DateWindow = {
    fromDate: fromDate ?? (toDate !== undefined && toDate < fallback.fromDate ? toDate : fallback.fromDate),
    toDate: toDate ?? (fromDate !== undefined && fromDate > fallback.toDate ? fromDate : fallback.toDate),
  };
  if (window.fromDate > window.toDate) {
    throw new UsageError(`--from ${window.fromDate} is after --to ${window.toDate}`);
  }
  const days = windowDays(window);
  if (days > maxDays) {
    throw new UsageError(
      `the window ${window.fromDate}..${window.toDate} is ${days} days; at most ${maxDays} are allowed (ETL_MAX_WINDOW_DAYS)`,
    );
  }
  return window;
}

/** Unix seconds of an instant given as an ISO 8601 string with offset; NaN when unparseable. */
export function isoInstantToUnix(text: string): number {
  const dt = DateTime.fromISO(text, { setZone: true });
  return dt.isValid ? Math.floor(dt.toSeconds()) : Number.NaN;
}

/** The business date (in `zone`) of a unix-seconds instant. */
export function unixToBusinessDate(unixSeconds: number, zone: string): IsoDate {
  return DateTime.fromSeconds(unixSeconds, { zone }).toISODate() as IsoDate;
}

/** ISO 8601 with the zone's offset at the start of `date` in `zone`, e.g. `2025-11-01T00:00:00+03:00`. */
export function startOfDayIso(date: IsoDate, zone: string): string {
  return DateTime.fromISO(date, { zone }).startOf('day').toISO({ suppressMilliseconds: true }) as string;
}

/** Human time in `zone`, `YYYY-MM-DD HH:mm:ss`, for tables and messages. */
export function formatInstant(unixSeconds: number, zone: string): string {
  return DateTime.fromSeconds(unixSeconds, { zone }).toFormat('yyyy-MM-dd HH:mm:ss');
}
