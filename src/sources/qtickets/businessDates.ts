/**
 * Business dates of many instants, fast: a salesPaidIn call converts tens of thousands of
 * `payed_at` and show instants, and each luxon zone conversion costs tens of microseconds. The
 * cache remembers whole business days as [start, end) ranges of unix seconds, computed with the
 * shared date helpers, so the answer is exactly `unixToBusinessDate` for any zone and any DST rule.
 */
import {
  addDays,
  isoInstantToUnix,
  startOfDayIso,
  unixToBusinessDate,
  type IsoDate,
} from '../../time/dates.js';

interface DayRange {
  date: IsoDate;
  /** First second of the day, unix seconds (inclusive). */
  startUnix: number;
  /** First second of the next day, unix seconds (exclusive). */
  endUnix: number;
}

/** Most day ranges kept; orders arrive in time order, shows cluster around them. */
const MAX_RANGES = 4096;

/** Converts unix seconds to business dates (`YYYY-MM-DD`) in one IANA zone, with a day cache. */
export class BusinessDates {
  readonly #ranges = new Map<number, DayRange>();

  /** @param timezone IANA zone of business dates (ETL_TIMEZONE). */
  constructor(readonly timezone: string) {}

  /** The business date of `unixSeconds` in the zone; equal to `unixToBusinessDate`. */
  dateOf(unixSeconds: number): IsoDate {
    // Ranges are keyed by the UTC day of their start; a day (23–25 h) starts at most two UTC days back.
    const key = Math.floor(unixSeconds / 86_400);
    for (const k of [key, key - 1, key - 2]) {
      const range = this.#ranges.get(k);
      if (range !== undefined && unixSeconds >= range.startUnix && unixSeconds < range.endUnix)
        return range.date;
    }
    const date = unixToBusinessDate(unixSeconds, this.timezone);
    const startUnix = isoInstantToUnix(startOfDayIso(date, this.timezone));
    const endUnix = isoInstantToUnix(startOfDayIso(addDays(date, 1), this.timezone));
    if (this.#ranges.size >= MAX_RANGES) this.#ranges.delete(this.#ranges.keys().next().value as number);
    this.#ranges.set(Math.floor(startUnix / 86_400), { date, startUnix, endUnix });
    return date;
  }
}
