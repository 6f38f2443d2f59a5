/**
 * Turns parsed QTickets orders into sale lines (one per basket). Pure: the events come in through
 * an `EventLookup`, the business zone is a parameter. QTickets has no status field, so the state
 * of a line is derived from `payed`, `deleted_at` and `refunded_at` (reference §2.4, §2.10 item 9).
 * Source: https://qtickets.help/article/rest-api/
 */
import type { QticketsSaleLine, SaleLineStatus } from '../types.js';
import type { DateWindow, IsoDate } from '../../time/dates.js';
import type { BusinessDates } from './businessDates.js';
import type { QticketsBasket, QticketsOrder } from './schemas.js';

/** What a sale line needs to know about events and shows. */
export interface EventLookup {
  /** Name and city of an event; undefined when QTickets does not know the event. */
  event(eventId: number): { name: string; cityName: string } | undefined;
  /** Business date (ETL zone) of a show's `start_date`; null when the show is unknown. */
  showDate(showId: number): IsoDate | null;
}

/**
 * The business date (in the ETL zone of `dates`, e.g. Europe/Moscow) on which a paid order counts
 * as sold; null for unpaid orders and paid ones without `payed_at`. Bucketing by UTC or by the
 * event city's zone would move evening sales to another day (fixture README, "bucketing trap").
 */
export function saleDateOf(order: QticketsOrder, dates: BusinessDates): IsoDate | null {
  if (!order.payed || order.payed_at === null) return null;
  return dates.dateOf(order.payed_at);
}

/** True when the order is paid and its sale date lies in `window` (inclusive). */
export function isPaidIn(order: QticketsOrder, window: DateWindow, dates: BusinessDates): boolean {
  const date = saleDateOf(order, dates);
  return date !== null && date >= window.fromDate && date <= window.toDate;
}

/**
 * A refund wins over a cancellation: QTickets refunds through `DELETE /orders/{id}/baskets`, so a
 * refunded basket may well carry `deleted_at` too, and its money must still count as refunded.
 */
function statusOf(order: QticketsOrder, basket: QticketsBasket): SaleLineStatus {
  if (basket.refunded_at !== null) return 'refunded';
  if (basket.deleted_at !== null || order.deleted_at !== null) return 'cancelled';
  return 'live';
}

/**
 * One sale line per basket of a paid order: `live`, `cancelled` (basket or order `deleted_at`) or
 * `refunded` (`refunded_at` set; amount = `refunded_amount`, or the line's price when QTickets
 * omits it). `refunded_amount: 0` without `refunded_at` is not a refund (the recorded cancelled
 * baskets carry it). Unpaid orders give no lines.
 * @param dates business dates in the ETL zone (ETL_TIMEZONE).
 */
export function saleLinesOf(
  order: QticketsOrder,
  lookup: EventLookup,
  dates: BusinessDates,
): QticketsSaleLine[] {
  const saleDate = saleDateOf(order, dates);
  const payedAtUnix = order.payed_at;
  if (saleDate === null || payedAtUnix === null) return [];
  const event = lookup.event(order.event_id);
  return order.baskets.map((basket): QticketsSaleLine => {
    const status = statusOf(order, basket);
    return {
      saleDate,
      payedAtUnix,
      orderId: order.id,
      basketId: basket.id,
      eventId: order.event_id,
      eventName: event?.name ?? '',
      showId: basket.show_id ?? 0,
      eventDate: basket.show_id === null ? null : lookup.showDate(basket.show_id),
      cityName: event?.cityName ?? '',
      priceRub: basket.price,
      quantity: basket.quantity,
      status,
      refundedAtUnix: status === 'refunded' ? basket.refunded_at : null,
      refundAmountRub: status === 'refunded' ? (basket.refunded_amount ?? basket.price) : '0.00',
      currency: order.currency_id,
      ...order.utm,
    };
  });
}
