/**
 * The events one `salesPaidIn` call has seen, reduced to what sale lines need: event name, city
 * name, and the start of every show (turned into a business date on demand). Shows have no list endpoint in QTickets; they live in
 * `event.shows[]` and baskets point to them by `show_id`.
 * Source: https://qtickets.help/article/rest-api/ (`GET /events`).
 */
import type { IsoDate } from '../../time/dates.js';
import type { BusinessDates } from './businessDates.js';
import type { EventLookup } from './saleLines.js';
import type { QticketsEvent } from './schemas.js';

/** Events by id (null = QTickets answered 404 for it) and show dates by show id. */
export class EventCatalog implements EventLookup {
  readonly #events = new Map<number, { name: string; cityName: string } | null>();
  /** Show start instants (unix seconds, null = none); converted to dates only when a basket asks. */
  readonly #showStarts = new Map<number, number | null>();

  /** @param dates business dates in the ETL zone (ETL_TIMEZONE). */
  constructor(private readonly dates: BusinessDates) {}

  /** Records an event and its shows (a later copy of the same event replaces the earlier one). */
  add(event: QticketsEvent): void {
    this.#events.set(event.id, { name: event.name, cityName: event.city?.name ?? '' });
    for (const show of event.shows) this.#showStarts.set(show.id, show.start_date);
  }

  /** Records that QTickets does not know `eventId` (404), so it is not asked for again. */
  markUnknown(eventId: number): void {
    if (!this.#events.has(eventId)) this.#events.set(eventId, null);
  }

  /** True when `eventId` was listed, fetched, or found unknown. */
  has(eventId: number): boolean {
    return this.#events.has(eventId);
  }

  /** Name and city of a listed or fetched event; undefined when unknown (404) or never seen. */
  event(eventId: number): { name: string; cityName: string } | undefined {
    return this.#events.get(eventId) ?? undefined;
  }

  /** Business date of the show's `start_date`; null when the show or its start is unknown. */
  showDate(showId: number): IsoDate | null {
    const start = this.#showStarts.get(showId);
    return start === undefined || start === null ? null : this.dates.dateOf(start);
  }
}
