/**
 * The QTickets sandbox over HTTP: the wire behaviour of reference §2.9 (auth, GET with a JSON body,
 * where/orderBy/page/perPage, the real 404 and 503 bodies, fault switches) and the seeded generated
 * data (deterministic, every day sold in several cities, the recorded shapes, scenarios).
 */
import { readFileSync } from 'node:fs';
import { Decimal } from 'decimal.js';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import {
  startQticketsSandbox,
  type QticketsSandbox,
  type QticketsSandboxOptions,
} from '../src/sandbox/qticketsSandbox.js';
import { planDay } from '../src/sandbox/qticketsData.js';
import { createQticketsClient } from '../src/sources/qtickets/index.js';
import type { QticketsSaleLine } from '../src/sources/types.js';
import { addDays, type DateWindow } from '../src/time/dates.js';

type Json = Record<string, unknown>;
type Page = { data: Json[]; paging: { perPage: number; currentPage: number; total: number } };
const fixtureText = (name: string) =>
  readFileSync(new URL(`./fixtures/qtickets/${name}`, import.meta.url), 'utf8');
const fixture = (name: string) => JSON.parse(fixtureText(name)) as { data: Json[] };
const ORDERS = fixture('orders_page1.json').data;
const EVENTS = fixture('events_page1.json').data;

/** The generated data's clock in these tests: 2026-11-29 15:00 MSK. */
const NOW = new Date('2026-11-29T12:00:00Z');
const TODAY = '2026-11-29';
const RETRY = { retries: 2, minDelayMs: 10, maxDelayMs: 20, attemptTimeoutMs: 10_000 };

const sandboxes: QticketsSandbox[] = [];
afterEach(async () => {
  await Promise.all(sandboxes.splice(0).map((s) => s.close()));
});

async function sandbox(options: QticketsSandboxOptions = {}): Promise<QticketsSandbox> {
  const s = await startQticketsSandbox(options);
  sandboxes.push(s);
  return s;
}
const recorded = () => sandbox({ dataset: { orders: ORDERS, events: EVENTS } });
const generated = (options: QticketsSandboxOptions = {}) => sandbox({ seed: 7, now: () => NOW, ...options });

/** A raw call, as any QTickets client would make it. */
async function call(
  s: QticketsSandbox,
  path: string,
  options: { method?: 'GET' | 'POST'; body?: unknown; token?: string | null; rawBody?: string } = {},
) {
  const headers: Record<string, string> = { accept: 'application/json', 'content-type': 'application/json' };
  if (options.token !== null) headers.authorization = `Bearer ${options.token ?? s.token}`;
  const res = await request(`${s.url}${path}`, {
    method: options.method ?? 'GET',
    headers,
    body: options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: JSON.parse(text) as unknown };
}
const page = async (s: QticketsSandbox, path: string, body?: unknown) =>
  (await call(s, path, { body })).json as Page;

async function salesOf(s: QticketsSandbox, window: DateWindow): Promise<QticketsSaleLine[]> {
  const source = createQticketsClient({
    apiUrl: s.url,
    token: s.token,
    timezone: 'Europe/Moscow',
    retry: RETRY,
  });
  const lines: QticketsSaleLine[] = [];
  for await (const batch of source.salesPaidIn(window)) lines.push(...batch.lines);
  return lines;
}

describe('wire behaviour (reference §2.9), on the recorded dataset', () => {
  it('answers a wrong or missing token with 403 {"error":"Forbidden","status":403}, or 401 by switch', async () => {
    const s = await recorded();
    const wrong = await call(s, '/orders', { token: 'nope-nope' });
    expect([wrong.status, wrong.json]).toEqual([403, { error: 'Forbidden', status: 403 }]);
    const missing = await call(s, '/events', { token: null });
    expect(missing.status).toBe(403);
    s.faults.authFailureStatus = 401;
    const unauthorized = await call(s, '/orders', { token: 'nope-nope' });
    expect([unauthorized.status, unauthorized.json]).toEqual([401, { error: 'Unauthorized', status: 401 }]);
    const s401 = await sandbox({
      dataset: { orders: [], events: [] },
      authFailureStatus: 401,
      token: 'abc-token',
    });
    expect((await call(s401, '/orders', { token: 'other' })).status).toBe(401);
    expect((await call(s401, '/orders')).status).toBe(200);
  });

  it('without a body returns the whole history oldest first, 50 a page', async () => {
    const s = await recorded();
    const all = await page(s, '/orders');
    expect(all.paging).toEqual({ perPage: 50, currentPage: 1, total: 50 });
    const ids = all.data.map((o) => o.id as number);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(all.data[0]).toEqual(ORDERS.find((o) => o.id === Math.min(...ids)));
  });

  it('reads the JSON body of a GET: where (AND), payed_at compared as instants across offsets', async () => {
    const s = await recorded();
    const paid = await page(s, '/orders', { where: [{ column: 'payed', value: 1 }] });
    expect(paid.paging.total).toBe(40);
    const range = (from: string, to: string) => ({
      where: [
        { column: 'payed', value: 1 },
        { column: 'payed_at', operator: '>=', value: from },
        { column: 'payed_at', operator: '<', value: to },
      ],
    });
    const msk = await page(s, '/orders', range('2021-05-27T00:00:00+03:00', '2021-05-28T00:00:00+03:00'));
    const utc = await page(s, '/orders', range('2021-05-26T21:00:00Z', '2021-05-27T21:00:00Z'));
    expect(msk.data.map((o) => o.id)).toEqual([1646131, 1647743]);
    expect(utc.data.map((o) => o.id)).toEqual([1646131, 1647743]);
  });

  it('supports != in, not in, null, not null, <=, > and orderBy desc', async () => {
    const s = await recorded();
    const total = async (where: unknown[]) => (await page(s, '/orders', { where })).paging.total;
    expect(await total([{ column: 'payed', operator: '!=', value: 1 }])).toBe(10);
    expect(await total([{ column: 'id', operator: 'in', value: [1614202, 1642022, 1] }])).toBe(2);
    expect(await total([{ column: 'id', operator: 'not in', value: [1614202, 1642022] }])).toBe(48);
    expect(await total([{ column: 'deleted_at', operator: 'null' }])).toBe(40);
    expect(await total([{ column: 'deleted_at', operator: 'not null' }])).toBe(10);
    expect(await total([{ column: 'id', operator: '<=', value: 1642022 }])).toBe(2);
    expect(await total([{ column: 'price', operator: '>', value: 1000 }])).toBeGreaterThan(0);
    expect(await total([{ column: 'client.details.name', value: 'Вера' }])).toBeGreaterThan(0);
    const desc = await page(s, '/orders', { orderBy: { id: 'desc' }, page: 2, perPage: 10 });
    expect(desc.paging).toEqual({ perPage: 10, currentPage: 2, total: 50 });
    const ids = desc.data.map((o) => o.id as number);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    const past = await page(s, '/orders', { page: 9, perPage: 10 });
    expect(past).toEqual({ data: [], paging: { perPage: 10, currentPage: 9, total: 50 } });
  });

  it('answers a bad query or body with 400', async () => {
    const s = await recorded();
    expect(
      (await call(s, '/orders', { body: { where: [{ column: 'id', operator: 'like', value: 1 }] } })).status,
    ).toBe(400);
    expect(
      (await call(s, '/orders', { body: { where: [{ column: 'id', operator: 'in', value: 1 }] } })).status,
    ).toBe(400);
    expect((await call(s, '/orders', { rawBody: '{"where": [' })).status).toBe(400);
  });

  it('serves one order or event as {data}, and the recorded 404 bodies', async () => {
    const s = await recorded();
    const one = await call(s, '/orders/1652749');
    expect(one.status).toBe(200);
    expect(one.json).toEqual({ data: ORDERS.find((o) => o.id === 1652749) });
    const missingOrder = await call(s, '/orders/999999999');
    expect(missingOrder.status).toBe(404);
    expect(missingOrder.text).toBe(fixtureText('order_404.json').trim());
    const missingEvent = await call(s, '/events/12');
    expect(missingEvent.status).toBe(404);
    expect(missingEvent.text).toBe(fixtureText('event_404.json').trim());
    expect(((await call(s, '/events/24089')).json as { data: Json }).data.city).toEqual({
      id: 24,
      name: 'Томск',
      timezone: 'Asia/Krasnoyarsk',
    });
  });

  it('lists events 10 a page, deleted ones included unless filtered', async () => {
    const s = await sandbox({
      dataset: {
        orders: [],
        events: [...EVENTS, ...EVENTS.map((e) => ({ ...e, id: (e.id as number) + 100_000 }))],
      },
    });
    const first = await page(s, '/events');
    expect(first.paging).toEqual({ perPage: 10, currentPage: 1, total: 20 });
    expect(first.data.map((e) => e.id)).toEqual(expect.arrayContaining([24097, 30926]));
    const live = await page(s, '/events', { where: [{ column: 'deleted_at', operator: 'null' }] });
    expect(live.paging.total).toBe(16);
  });

  it('answers POST /orders with 503 UNKNOWN_ERROR, as the real server did', async () => {
    const s = await recorded();
    const post = await call(s, '/orders', { method: 'POST', body: { where: [] } });
    expect([post.status, post.json]).toEqual([
      503,
      { error: 'Unknown error', status: 503, code: 'UNKNOWN_ERROR', info: [] },
    ]);
  });

  it('records every request with its parsed body and status', async () => {
    const s = await recorded();
    await call(s, '/orders', { body: { page: 1 } });
    await call(s, '/events/12');
    expect(s.stats.requests).toEqual([
      { method: 'GET', path: '/orders', body: { page: 1 }, status: 200 },
      { method: 'GET', path: '/events/12', body: undefined, status: 404 },
    ]);
  });
});

describe('fault switches', () => {
  it('consumes serverErrorsNext and rateLimitNext one request at a time, scoped by pathPrefix', async () => {
    const s = await recorded();
    s.faults.pathPrefix = '/orders';
    s.faults.serverErrorsNext = 2;
    s.faults.rateLimitNext = 1;
    expect((await call(s, '/events')).status).toBe(200); // out of scope
    expect((await call(s, '/orders')).status).toBe(503);
    expect((await call(s, '/orders')).json).toEqual({
      error: 'Unknown error',
      status: 503,
      code: 'UNKNOWN_ERROR',
      info: [],
    });
    const limited = await call(s, '/orders');
    expect([limited.status, limited.headers['retry-after']]).toEqual([429, '1']);
    expect((await call(s, '/orders')).status).toBe(200);
    expect(s.faults).toMatchObject({ serverErrorsNext: 0, rateLimitNext: 0 });
  });

  it('keeps failing while outage is on (status switchable) and recovers when it is off', async () => {
    const s = await recorded();
    s.faults.outage = true;
    s.faults.serverErrorStatus = 502;
    expect((await call(s, '/orders')).status).toBe(502);
    expect((await call(s, '/events')).status).toBe(502);
    s.faults.outage = false;
    expect((await call(s, '/orders')).status).toBe(200);
  });

  it('serves malformed bodies, drops connections, and checks auth before faults', async () => {
    const s = await recorded();
    s.faults.malformedNext = 1;
    expect((await call(s, '/orders')).json).toEqual({ data: 'malformed' });
    s.faults.connectionResetsNext = 1;
    await expect(call(s, '/orders')).rejects.toThrow();
    s.faults.serverErrorsNext = 1;
    expect((await call(s, '/orders', { token: 'wrong' })).status).toBe(403);
    expect(s.faults.serverErrorsNext).toBe(1);
  });

  it('ignores filters and the client’s perPage when told to', async () => {
    const s = await sandbox({ dataset: { orders: ORDERS, events: EVENTS }, ordersPerPage: 7 });
    s.faults.ignoreFilters = true;
    s.faults.ignorePerPage = true;
    const all = await page(s, '/orders', { where: [{ column: 'payed', value: 1 }], perPage: 100 });
    expect(all.paging).toEqual({ perPage: 7, currentPage: 1, total: 50 });
  });
});

describe('generated data', () => {
  it('is a pure function of the seed: the same window gives the same orders after a restart', async () => {
    const body = {
      where: [
        { column: 'payed_at', operator: '>=', value: '2026-03-01T00:00:00+03:00' },
        { column: 'payed_at', operator: '<', value: '2026-03-04T00:00:00+03:00' },
      ],
      perPage: 500,
    };
    const a = await generated();
    const first = (await call(a, '/orders', { body })).text;
    await a.close();
    const b = await generated();
    expect((await call(b, '/orders', { body })).text).toBe(first);
    const other = await generated({ seed: 8 });
    expect((await call(other, '/orders', { body })).text).not.toBe(first);
    // A later clock changes nothing about days long settled.
    const later = await generated({ now: () => new Date('2027-06-01T00:00:00Z') });
    expect((await call(later, '/orders', { body })).text).toBe(first);
    expect((JSON.parse(first) as Page).paging.total).toBeGreaterThanOrEqual(24);
  });

  it('sells on every one of the last 400 days: at least 3 paid orders in at least 3 cities a day', async () => {
    const s = await generated();
    const window = { fromDate: addDays(TODAY, -400), toDate: addDays(TODAY, -1) };
    const lines = await salesOf(s, window);
    const days = new Map<string, { orders: Set<number>; cities: Set<string> }>();
    for (const l of lines) {
      if (l.status !== 'live') continue;
      const day = days.get(l.saleDate) ?? { orders: new Set(), cities: new Set() };
      day.orders.add(l.orderId);
      day.cities.add(l.cityName);
      days.set(l.saleDate, day);
    }
    expect(days.size).toBe(400);
    for (const [date, day] of days) {
      expect({ date, orders: day.orders.size >= 3, cities: day.cities.size >= 3 }).toEqual({
        date,
        orders: true,
        cities: true,
      });
    }
    const cities = new Set(lines.map((l) => l.cityName));
    expect(cities).toEqual(
      new Set([
        'Москва',
        'Санкт-Петербург',
        'Казань',
        'Екатеринбург',
        'Новосибирск',
        'Томск',
        'Барнаул',
        'Прокопьевск',
        'Междуреченск',
        'Красноярск',
      ]),
    );
    expect(lines.every((l) => l.eventName !== '' && l.eventDate !== null && l.eventDate >= l.saleDate)).toBe(
      true,
    );
    const statuses = new Set(lines.map((l) => l.status));
    expect(statuses).toEqual(new Set(['live', 'refunded', 'cancelled']));
    expect(lines.some((l) => !l.priceRub.endsWith('.00'))).toBe(true); // 15% promo prices such as 416.50
    const refunded = lines.filter((l) => l.status === 'refunded');
    for (const l of refunded) {
      const daysLater = ((l.refundedAtUnix as number) - l.payedAtUnix) / 86_400;
      expect(daysLater).toBeGreaterThan(0);
      expect(daysLater).toBeLessThan(8);
    }
  });

  it('has the recorded shapes: payed boolean, utm [] or object, currency_id RUB, +03:00 timestamps, unpaid orders', async () => {
    const s = await generated();
    const res = await call(s, '/orders', {
      body: {
        where: [{ column: 'created_at', operator: '>=', value: '2026-10-01T00:00:00+03:00' }],
        perPage: 10_000,
      },
    });
    const { data } = res.json as Page;
    expect(data.length).toBeGreaterThan(500);
    expect(new Set(data.map((o) => typeof o.payed))).toEqual(new Set(['boolean']));
    expect(data.some((o) => Array.isArray(o.utm) && o.utm.length === 0)).toBe(true);
    expect(data.some((o) => !Array.isArray(o.utm) && typeof o.utm === 'object')).toBe(true);
    expect(new Set(data.map((o) => o.currency_id))).toEqual(new Set(['RUB']));
    expect(new Set(data.map((o) => o.custom))).toEqual(new Set(['']));
    const unpaid = data.filter((o) => o.payed === false);
    expect(unpaid.length).toBeGreaterThan(0);
    expect(unpaid.every((o) => o.payed_at === null)).toBe(true);
    const offsets = new Set(
      [...res.text.matchAll(/"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d([^"]*)"/g)].map((m) => m[1]),
    );
    expect(offsets).toEqual(new Set(['+03:00']));
    const baskets = data.flatMap((o) => o.baskets as Json[]);
    expect(baskets.every((b) => typeof b.price === 'number' && typeof b.show_id === 'number')).toBe(true);
    expect(
      baskets.some((b) => b.deleted_at !== null && b.refunded_at === null && b.refunded_amount === 0),
    ).toBe(true);
    expect(baskets.some((b) => b.refunded_at !== null && typeof b.refunded_amount === 'number')).toBe(true);
    // Ids grow with time.
    const byId = [...data].sort((a, b) => (a.id as number) - (b.id as number));
    const created = byId.map((o) => Date.parse(o.created_at as string));
    expect(created).toEqual([...created].sort((a, b) => a - b));
    // Nothing after the sandbox's clock.
    expect(Math.max(...created)).toBeLessThanOrEqual(NOW.getTime());
    const one = await call(s, `/orders/${byId[0]?.id as number}`);
    expect(one.json).toEqual({ data: byId[0] });
  });

  it('hides refunds, cancellations and orders that lie after the sandbox clock', async () => {
    // Find a generated order refunded some days after payment, then look at it before and after.
    const plans = planDay(7, '2026-06-10');
    const order = plans.find((o) => o.baskets.some((b) => b.refundedUnix !== null));
    expect(order).toBeDefined();
    const refundedUnix = Math.min(...(order?.baskets ?? []).map((b) => b.refundedUnix ?? Infinity));
    const before = await generated({ now: () => new Date((refundedUnix - 60) * 1000) });
    const after = await generated({ now: () => new Date((refundedUnix + 60) * 1000) });
    const refundsOf = async (s: QticketsSandbox) =>
      ((await call(s, `/orders/${order?.id}`)).json as { data: { baskets: Json[] } }).data.baskets.filter(
        (b) => b.refunded_at !== null,
      ).length;
    expect(await refundsOf(before)).toBe(0);
    expect(await refundsOf(after)).toBeGreaterThan(0);
    const early = await generated({ now: () => new Date('2026-06-10T03:00:00Z') }); // 06:00 MSK, before opening
    expect((await call(early, `/orders/${order?.id}`)).status).toBe(404);
  });

  it('lists ~12 events a season with daily shows, deleted drafts included; any event id resolves', async () => {
    const s = await generated({ historyDays: 30 });
    const events: Json[] = [];
    for (let n = 1; ; n++) {
      const p = await page(s, '/events', { page: n });
      events.push(...p.data);
      if (n * p.paging.perPage >= p.paging.total) break;
    }
    expect(events.length).toBeGreaterThanOrEqual(12);
    expect(events.some((e) => e.deleted_at !== null)).toBe(true);
    expect(new Set(events.map((e) => typeof e.is_active))).toEqual(new Set(['number']));
    const city = events[0]?.city as Json;
    expect(Object.keys(city)).toEqual(['id', 'name', 'timezone']);
    // An old order's event is not in a 30-day list, but GET /events/{id} knows it.
    const old = planDay(7, '2024-02-10')[0];
    const eventId = old?.event.eventId as number;
    expect(events.some((e) => e.id === eventId)).toBe(false);
    const one = (await call(s, `/events/${eventId}`)).json as { data: { shows: Json[] } };
    expect(one.data.shows.some((show) => show.id === old?.baskets[0]?.showId)).toBe(true);
    expect((await call(s, '/events/999999999')).status).toBe(404);
  });

  it('resolves events beyond the listed history through GET /events/{id} in the client', async () => {
    const s = await generated({ historyDays: 30 });
    const lines = await salesOf(s, { fromDate: '2024-02-10', toDate: '2024-02-11' });
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.every((l) => l.cityName !== '' && l.eventDate !== null)).toBe(true);
    expect(s.stats.requests.some((r) => /^\/events\/\d+$/.test(r.path) && r.status === 200)).toBe(true);
  });

  it('massRefundDate: that day’s refunds exceed its sales, and other days are untouched', async () => {
    const massRefundDate = '2026-10-15';
    const plain = await generated();
    const scenario = await generated({ scenarios: { massRefundDate } });
    const window = { fromDate: addDays(massRefundDate, -31), toDate: addDays(massRefundDate, 1) };
    const refundsOn = (lines: QticketsSaleLine[], date: string) =>
      lines
        .filter((l) => l.status === 'refunded' && l.refundedAtUnix !== null)
        .filter(
          (l) =>
            new Date(((l.refundedAtUnix as number) + 3 * 3600) * 1000).toISOString().slice(0, 10) === date,
        )
        .reduce((sum, l) => sum.plus(l.refundAmountRub), new Decimal(0));
    const salesOn = (lines: QticketsSaleLine[], date: string) =>
      lines.filter((l) => l.saleDate === date).reduce((sum, l) => sum.plus(l.priceRub), new Decimal(0));

    const withScenario = await salesOf(scenario, window);
    const without = await salesOf(plain, window);
    expect(refundsOn(withScenario, massRefundDate).greaterThan(salesOn(withScenario, massRefundDate))).toBe(
      true,
    );
    expect(refundsOn(without, massRefundDate).lessThan(salesOn(without, massRefundDate))).toBe(true);
    // Sales themselves are the same; the day after, and days before the 30-day reach, are identical.
    expect(salesOn(withScenario, massRefundDate).toFixed(2)).toBe(
      salesOn(without, massRefundDate).toFixed(2),
    );
    const dayAfter = addDays(massRefundDate, 1);
    expect(withScenario.filter((l) => l.saleDate === dayAfter)).toEqual(
      without.filter((l) => l.saleDate === dayAfter),
    );
    const outside = addDays(massRefundDate, -31);
    expect(withScenario.filter((l) => l.saleDate === outside)).toEqual(
      without.filter((l) => l.saleDate === outside),
    );
  });
});
