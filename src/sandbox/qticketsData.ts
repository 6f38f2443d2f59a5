/**
 * Seeded QTickets orders for the sandbox. The orders of a Moscow calendar date are a pure function
 * of (seed, date, scenarios): `planDay` decides everything that ever happens to them (payment,
 * cancellations, refunds, scans, with their instants), and `renderOrder` writes the `Order` object
 * QTickets would return at a given instant (later events not yet visible). Wire shapes follow the
 * recorded orders_page1.json: `payed` boolean, money as JSON numbers of rubles, `utm` `[]` or an
 * object, `custom` "", `fields` [], `integrations` [] or `{roistat:…}`, timestamps with `+03:00`.
 * Source: https://qtickets.help/article/rest-api/ (`GET /orders`).
 *
 * Volume: 8–17 orders a day (more at weekends), about 10% unpaid (reservation expired), 1–5
 * tickets each; every day the first three orders are paid and go to three different cities.
 * Baskets: ~1.5% of paid tickets cancelled 1–3 days later, ~3.5% refunded 1–6 days later.
 * Order ids are `1_000_000 + day * 100 + n` (day 0 = 2000-01-01), so they grow with time.
 */
import { eventPlan, SELLING_SLOTS, seasonOfDay, showIdOf, showStartUnix } from './qticketsCatalog.js';
import type { EventPlan } from './qticketsCatalog.js';
import { dayNumberOf, hashSeed, mskIso, mskMidnightUnix, Rng, weekdayOf } from './qticketsRandom.js';

/**
 * Switches that bend the generated data into situations other parts of the product must handle.
 * Each scenario is a rule applied to a day's planned orders after the ordinary generation, with its
 * own random stream, so switching one on changes only what it is about.
 */
export interface QticketsScenarios {
  /**
   * An MSK date `YYYY-MM-DD` on which ~60% of the live tickets paid in the 30 days before it are
   * refunded (in full, `refunded_at` on that date), so that the day's refunds far exceed its sales.
   * @default undefined (no mass refund)
   */
  massRefundDate?: string | undefined;
}

/** One ticket line as planned: prices in rubles, instants in unix seconds (null = never). */
export interface PlannedBasket {
  id: number;
  showId: number;
  seatKind: 'adult' | 'child';
  originalRub: number;
  priceRub: number;
  createdUnix: number;
  barcode: string;
  urlToken: string;
  cancelledUnix: number | null;
  refundedUnix: number | null;
  refundRub: number | null;
  deductionRub: number | null;
  checkedUnix: number | null;
}

/** One order as planned; `renderOrder` turns it into the wire object. */
export interface PlannedOrder {
  id: number;
  uniqid: string;
  /** Secret of the order's `cancel_url`. */
  cancelToken: string;
  event: EventPlan;
  clientId: number;
  clientDetailsId: number;
  firstName: string;
  surname: string;
  phone: string;
  createdUnix: number;
  /** null for unpaid orders. */
  payedUnix: number | null;
  /** Unpaid orders are deleted when their reservation expires. */
  deletedUnix: number | null;
  reservedToUnix: number;
  promo: { discountId: number; promoCodeId: number } | null;
  paymentTypeId: string;
  cardMask: string | null;
  utm: unknown;
  integrations: unknown;
  baskets: PlannedBasket[];
}

const ORDER_ID_BASE = 1_000_000;
/** Orders a day can hold in its id range. */
const ORDER_IDS_PER_DAY = 100;
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const FIRST_NAMES = [
  'Анна',
  'Мария',
  'Елена',
  'Ольга',
  'Иван',
  'Пётр',
  'Алексей',
  'Дмитрий',
  'Наталья',
  'Сергей',
];
const SURNAMES = ['Иванова', 'Петрова', 'Смирнова', 'Кузнецов', 'Попов', 'Соколова', 'Морозов', 'Волкова'];
const UTM_SOURCES = [
  { source: 'vk', medium: 'cpc' },
  { source: 'yandex', medium: 'cpc' },
  { source: 'insta', medium: 'social' },
  { source: 'telegram', medium: 'post' },
];
/** Promo discounts, percent, with their weights (none, 10%, 15%, 50%, 100%). */
const DISCOUNTS = [0, 10, 15, 50, 100];
const DISCOUNT_WEIGHTS = [75, 10, 8, 5, 2];

/** First and last order id of a day number (inclusive). */
export function orderIdRangeOf(day: number): { first: number; last: number } {
  const first = ORDER_ID_BASE + day * ORDER_IDS_PER_DAY;
  return { first, last: first + ORDER_IDS_PER_DAY - 1 };
}

/** Day number an order id belongs to (may be outside the generated range). */
export function dayOfOrderId(orderId: number): number {
  return Math.floor((orderId - ORDER_ID_BASE) / ORDER_IDS_PER_DAY);
}

function pickSlot(rng: Rng, plans: EventPlan[]): EventPlan {
  return plans[rng.weighted(plans.map((p) => p.city.salesWeight))] as EventPlan;
}

function planBasket(
  rng: Rng,
  order: { id: number; createdUnix: number; payedUnix: number | null },
  index: number,
  event: EventPlan,
  showDay: number,
  discountPercent: number,
  keepLive: boolean,
): PlannedBasket {
  const seatKind = rng.chance(0.55) ? 'child' : 'adult';
  const originalRub = seatKind === 'child' ? event.childRub : event.adultRub;
  // Integer arithmetic first: 490 * 0.85 in floating point is 416.49999999999994.
  const priceRub = Math.round(originalRub * (100 - discountPercent)) / 100;
  const showId = showIdOf(event, showDay);
  const basket: PlannedBasket = {
    id: order.id * 8 + index,
    showId,
    seatKind,
    originalRub,
    priceRub,
    createdUnix: order.createdUnix - 60 + index,
    barcode: rng.text(12, '0123456789'),
    urlToken: rng.text(32, '0123456789abcdef'),
    cancelledUnix: null,
    refundedUnix: null,
    refundRub: null,
    deductionRub: null,
    checkedUnix: null,
  };
  const payed = order.payedUnix;
  if (payed === null) return basket;
  const roll = rng.next();
  if (!keepLive && roll < 0.035) {
    basket.refundedUnix = payed + rng.int(1, 6) * 86_400 + rng.int(0, 8 * 3600);
    const deduction = rng.chance(0.2) ? Math.round(priceRub * 10) / 100 : 0;
    basket.refundRub = Math.round((priceRub - deduction) * 100) / 100;
    basket.deductionRub = deduction;
    // Refunds go through DELETE /orders/{id}/baskets, so the ticket is deleted as well.
    basket.cancelledUnix = basket.refundedUnix;
  } else if (!keepLive && roll < 0.05) {
    basket.cancelledUnix = payed + rng.int(1, 3) * 86_400 + rng.int(0, 8 * 3600);
  } else if (rng.chance(0.7)) {
    basket.checkedUnix = showStartUnix(event, showDay) - rng.int(5, 40) * 60;
  }
  return basket;
}

function planOrder(
  seed: number,
  day: number,
  index: number,
  createdOffsetS: number,
  event: EventPlan,
  forcePaid: boolean,
): PlannedOrder {
  const rng = new Rng(hashSeed(seed, 4, day, index));
  const id = orderIdRangeOf(day).first + index;
  const dayStart = mskMidnightUnix(day);
  const createdUnix = dayStart + createdOffsetS;
  const paid = forcePaid || !rng.chance(0.1);
  const payedUnix = paid ? Math.min(createdUnix + rng.int(40, 600), dayStart + 86_399) : null;
  const clientId = 2_000_000 + rng.int(0, 49_999);
  const discountPercent = DISCOUNTS[rng.weighted(DISCOUNT_WEIGHTS)] as number;
  const tickets = 1 + rng.weighted([30, 35, 20, 10, 5]);
  // Tickets for a show in the next two weeks of the run (the same day only on its last day).
  const showDay = Math.min(day + 1 + rng.weighted([5, 5, 4, 4, 3, 3, 2, 2, 2, 1, 1, 1, 1]), event.lastDay);
  const utmRoll = rng.next();
  let utm: unknown = [];
  if (utmRoll >= 0.45) {
    const src = rng.pick(UTM_SOURCES);
    const tags: Record<string, string> = {
      utm_source: src.source,
      utm_medium: src.medium,
      utm_campaign: String(rng.int(10_000_000, 199_999_999)),
    };
    if (rng.chance(0.2)) {
      tags.utm_content = String(rng.int(1_000_000, 9_999_999));
      tags.utm_term = rng.pick(['детский спектакль', 'куда сходить с ребёнком', 'афиша']);
    }
    utm = tags;
  }
  const uniqid = rng.text(10, ALNUM);
  const byCard = rng.chance(0.88);
  const order: PlannedOrder = {
    id,
    uniqid,
    cancelToken: rng.text(32, '0123456789abcdef'),
    event,
    clientId,
    clientDetailsId: clientId - 1_200_000,
    firstName: rng.pick(FIRST_NAMES),
    surname: rng.pick(SURNAMES),
    phone: `+7900${String(clientId % 10_000_000).padStart(7, '0')}`,
    createdUnix,
    payedUnix,
    deletedUnix: paid ? null : createdUnix + rng.int(600, 86_400),
    reservedToUnix: createdUnix + 86_400,
    promo: discountPercent === 0 ? null : { discountId: 6861, promoCodeId: 170_000 + discountPercent },
    paymentTypeId: byCard ? 'card' : rng.pick(['4326371', '3449832']),
    cardMask: paid && byCard && rng.chance(0.3) ? '000000******0000' : null,
    utm,
    integrations: rng.chance(0.1) ? { roistat: { roistat_visit: String(rng.int(100_000, 999_999)) } } : [],
    baskets: [],
  };
  for (let k = 0; k < tickets; k++) {
    order.baskets.push(planBasket(rng, order, k, event, showDay, discountPercent, forcePaid && k === 0));
  }
  if (!paid) {
    for (const b of order.baskets) b.cancelledUnix = order.deletedUnix;
  }
  return order;
}

/** A rule that changes a day's planned orders in place. */
type ScenarioRule = (orders: PlannedOrder[], seed: number, day: number) => void;

function massRefundRule(refundDate: string): ScenarioRule {
  const refundDay = dayNumberOf(refundDate);
  const refundDayStart = mskMidnightUnix(refundDay);
  return (orders, seed, day) => {
    if (day < refundDay - 30 || day >= refundDay) return;
    for (const order of orders) {
      if (order.payedUnix === null) continue;
      for (const [k, basket] of order.baskets.entries()) {
        const liveAtStart =
          (basket.refundedUnix === null || basket.refundedUnix > refundDayStart) &&
          (basket.cancelledUnix === null || basket.cancelledUnix > refundDayStart);
        const rng = new Rng(hashSeed(seed, 3, order.id, k));
        if (!liveAtStart || !rng.chance(0.6)) continue;
        basket.refundedUnix = refundDayStart + rng.int(9 * 3600, 21 * 3600);
        basket.cancelledUnix = basket.refundedUnix;
        basket.refundRub = basket.priceRub;
        basket.deductionRub = 0;
        basket.checkedUnix = null;
      }
    }
  };
}

function scenarioRules(scenarios: QticketsScenarios): ScenarioRule[] {
  const rules: ScenarioRule[] = [];
  if (scenarios.massRefundDate !== undefined) rules.push(massRefundRule(scenarios.massRefundDate));
  return rules;
}

/**
 * Everything that ever happens to the orders created on the Moscow date `date` (`YYYY-MM-DD`),
 * ordered by id (= by creation time). Pure: the same (seed, date, scenarios) always gives the same
 * plans. Dates before 2000-01-01 have no orders.
 */
export function planDay(seed: number, date: string, scenarios: QticketsScenarios = {}): PlannedOrder[] {
  const day = dayNumberOf(date);
  if (day < 0) return [];
  const rng = new Rng(hashSeed(seed, 1, day));
  const season = seasonOfDay(day);
  const selling = Array.from({ length: SELLING_SLOTS }, (_, slot) => eventPlan(seed, season, slot));
  const weekday = weekdayOf(day);
  const count = 8 + rng.int(0, 6) + (weekday === 0 || weekday === 6 ? 3 : 0);
  const offsets = Array.from({ length: count }, () => rng.int(8 * 3600, 23 * 3600 + 50 * 60)).sort(
    (a, b) => a - b,
  );
  // The first three orders of the day go to three different cities (slots map to distinct cities).
  const firstSlots = rng.shuffle(selling).slice(0, 3);
  const orders = offsets.map((offset, i) =>
    planOrder(seed, day, i, offset, i < 3 ? (firstSlots[i] as EventPlan) : pickSlot(rng, selling), i < 3),
  );
  for (const rule of scenarioRules(scenarios)) rule(orders, seed, day);
  return orders;
}

/** The latest instant at which anything happens to the order, unix seconds. */
export function lastChangeOf(order: PlannedOrder): number {
  let last = order.payedUnix ?? order.createdUnix;
  if (order.deletedUnix !== null) last = Math.max(last, order.deletedUnix);
  for (const b of order.baskets) {
    for (const t of [b.cancelledUnix, b.refundedUnix, b.checkedUnix]) if (t !== null && t > last) last = t;
  }
  return last;
}

const seen = (t: number | null, asOfUnix: number): t is number => t !== null && t <= asOfUnix;

/**
 * The `Order` object QTickets would return at `asOfUnix` (unix seconds): cancellations, refunds and
 * scans after that instant are not visible yet. The caller hides orders created after `asOfUnix`.
 * Money is JSON numbers of rubles; `refunds` stays `[]` (the shape of a refund object is not
 * documented, and the ETL reads the basket fields).
 */
export function renderOrder(order: PlannedOrder, asOfUnix: number): Record<string, unknown> {
  const payed = seen(order.payedUnix, asOfUnix);
  const orderDeleted = seen(order.deletedUnix, asOfUnix);
  const email = `buyer${order.clientId}@example.ru`;
  let updated = payed ? (order.payedUnix as number) : order.createdUnix;
  const baskets = order.baskets.map((b) => {
    const refunded = payed && seen(b.refundedUnix, asOfUnix);
    const deleted = seen(b.cancelledUnix, asOfUnix);
    const checked = !deleted && seen(b.checkedUnix, asOfUnix);
    const changed = Math.max(
      payed ? (order.payedUnix as number) : b.createdUnix,
      deleted ? (b.cancelledUnix as number) : 0,
      checked ? (b.checkedUnix as number) : 0,
    );
    updated = Math.max(updated, changed);
    const issued = payed;
    return {
      id: b.id,
      series: `88${order.event.eventId}`,
      barcode: issued ? b.barcode : null,
      show_id: b.showId,
      seat_id: b.seatKind === 'child' ? 'detskij-bilet-1;1' : 'vzroslyj-bilet-1;1',
      seat_name: b.seatKind === 'child' ? 'Детский билет' : 'Взрослый билет',
      original_price: b.originalRub,
      ticket_original_price: b.originalRub,
      discount_value: Math.round((b.originalRub - b.priceRub) * 100) / 100,
      price: b.priceRub,
      ticket_amount: b.priceRub,
      service_fee_amount: 0,
      multiprice_code: null,
      quantity: 1,
      client_email: email,
      client_phone: order.phone,
      client_name: order.firstName,
      client_surname: order.surname,
      client_middlename: null,
      organization_name: null,
      legal_name: null,
      work_position: null,
      inn: null,
      kpp: null,
      comment: null,
      pdf_url: issued ? `https://qtickets.ru/ticket/pdf/${order.uniqid}/${b.urlToken}` : null,
      passbook_url: issued ? `https://qtickets.ru/ticket/passbook/${order.uniqid}/${b.urlToken}` : null,
      related_baskets: [],
      services: [],
      checked_at: checked ? mskIso(b.checkedUnix as number) : null,
      created_at: mskIso(b.createdUnix),
      updated_at: mskIso(changed),
      deleted_at: deleted ? mskIso(b.cancelledUnix as number) : null,
      refunded_at: refunded ? mskIso(b.refundedUnix as number) : null,
      // Cancelled tickets carry 0 here without a refund, as in the recording.
      refunded_amount: refunded ? b.refundRub : deleted ? 0 : null,
      refunded_deduction_amount: refunded ? b.deductionRub : null,
      refunds: [],
    };
  });
  if (orderDeleted) updated = Math.max(updated, order.deletedUnix as number);
  const price = order.baskets.reduce((sum, b) => sum + Math.round(b.priceRub * 100), 0) / 100;
  const originalPrice = order.baskets.reduce((sum, b) => sum + b.originalRub, 0);
  return {
    id: order.id,
    uniqid: order.uniqid,
    payed,
    payed_at: payed ? mskIso(order.payedUnix as number) : null,
    client_id: order.clientId,
    client: {
      id: order.clientId,
      email,
      details: {
        id: order.clientDetailsId,
        name: order.firstName,
        middlename: null,
        surname: order.surname,
        phone: order.phone,
        vk_id: '',
        facebook_id: '',
      },
    },
    site_id: 1356,
    site: { id: 1356, host: 'example-shop.ru' },
    payment_id: 12133,
    payment_type_id: order.paymentTypeId,
    payment_card_number: payed ? order.cardMask : null,
    payment_url: `https://qtickets.ru/pay/${order.uniqid}`,
    cancel_url: `https://qtickets.ru/cancel-order/${order.uniqid}/${order.cancelToken}`,
    basket_user_id: 5_000_000 + (order.clientId % 1_000_000),
    backend_user_id: null,
    access_code_id: null,
    discount_id: order.promo?.discountId ?? null,
    promo_code_id: order.promo?.promoCodeId ?? null,
    reserved: !payed && !orderDeleted,
    reserved_to: mskIso(order.reservedToUnix),
    reserve_extended: false,
    event_id: order.event.eventId,
    price,
    original_price: originalPrice,
    currency_id: 'RUB',
    utm: order.utm,
    custom: '',
    fields: [],
    baskets,
    refunds: [],
    integrations: order.integrations,
    created_at: mskIso(order.createdUnix),
    updated_at: mskIso(updated),
    deleted_at: orderDeleted ? mskIso(order.deletedUnix as number) : null,
  };
}
