/**
 * The QTickets client against the local sandbox over HTTP (no mocks): the recorded production
 * responses (test/fixtures/qtickets, served in `dataset` mode) must give exactly the figures of the
 * fixtures' README, and every upstream failure must map to its error class without leaking the token.
 */
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { Decimal } from 'decimal.js';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import {
  UpstreamAuthError,
  UpstreamFormatError,
  UpstreamHttpError,
  UpstreamNetworkError,
} from '../src/errors.js';
import type { RetryPolicy } from '../src/http/request.js';
import {
  startQticketsSandbox,
  type QticketsSandbox,
  type QticketsSandboxOptions,
} from '../src/sandbox/qticketsSandbox.js';
import {
  createQticketsClient,
  localizedText,
  phpAssoc,
  phpFlag,
  utmTags,
} from '../src/sources/qtickets/index.js';
import type { QticketsClientOptions } from '../src/sources/qtickets/index.js';
import type { QticketsSaleLine } from '../src/sources/types.js';
import type { DateWindow } from '../src/time/dates.js';

type Json = Record<string, unknown>;
const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`./fixtures/qtickets/${name}`, import.meta.url), 'utf8')) as {
    data: Json[];
  };
const ORDERS = fixture('orders_page1.json').data;
const EVENTS = fixture('events_page1.json').data;

const ZONE = 'Europe/Moscow';
const RETRY: RetryPolicy = { retries: 3, minDelayMs: 10, maxDelayMs: 20, attemptTimeoutMs: 5_000 };
/** Covers every payment date of the recording (2021-05-18..2021-06-13). */
const RECORDED: DateWindow = { fromDate: '2021-05-18', toDate: '2021-06-13' };

// MSK date of payed_at → [paid orders, live lines, tickets, revenue in rubles] (fixtures README).
const EXPECTED_BY_DATE: Record<string, [number, number, number, string]> = {
  '2021-05-18': [1, 1, 1, '4.00'],
  '2021-05-25': [1, 1, 1, '0.00'],
  '2021-05-26': [1, 1, 1, '0.00'],
  '2021-05-27': [2, 5, 5, '1060.00'],
  '2021-05-29': [2, 5, 5, '1290.00'],
  '2021-05-31': [3, 18, 18, '0.00'],
  '2021-06-02': [3, 11, 11, '920.00'],
  '2021-06-03': [1, 2, 2, '756.00'],
  '2021-06-04': [4, 6, 6, '0.00'],
  '2021-06-05': [3, 14, 14, '756.00'],
  '2021-06-06': [2, 5, 5, '1505.00'],
  '2021-06-07': [2, 7, 7, '0.00'],
  '2021-06-08': [1, 2, 2, '880.00'],
  '2021-06-09': [1, 2, 2, '704.00'],
  '2021-06-10': [6, 11, 11, '980.00'],
  '2021-06-11': [6, 26, 26, '2150.00'],
  '2021-06-13': [1, 1, 1, '392.00'],
};
const UTM_EMPTY_ORDERS = [
  1614202, 1642022, 1642768, 1646131, 1647743, 1658606, 1658609, 1658610, 1664905, 1664918, 1672790, 1674002,
  1678012, 1685419, 1685637, 1685708, 1685720, 1685725, 1686278, 1687711, 1687802, 1687889, 1687891, 1687893,
];

const sandboxes: QticketsSandbox[] = [];
afterEach(async () => {
  await Promise.all(sandboxes.splice(0).map((s) => s.close()));
});

async function sandbox(options: QticketsSandboxOptions = {}): Promise<QticketsSandbox> {
  const s = await startQticketsSandbox({ dataset: { orders: ORDERS, events: EVENTS }, ...options });
  sandboxes.push(s);
  return s;
}

function client(s: QticketsSandbox, options: Partial<QticketsClientOptions> = {}) {
  return createQticketsClient({ apiUrl: s.url, token: s.token, timezone: ZONE, retry: RETRY, ...options });
}

async function collect(
  source: ReturnType<typeof client>,
  window: DateWindow = RECORDED,
  signal?: AbortSignal,
) {
  const lines: QticketsSaleLine[] = [];
  let recordsRead = 0;
  let batches = 0;
  for await (const batch of source.salesPaidIn(window, signal)) {
    lines.push(...batch.lines);
    recordsRead += batch.recordsRead;
    batches++;
  }
  return { lines, recordsRead, batches };
}

const sumRub = (lines: QticketsSaleLine[]) =>
  lines.reduce((sum, l) => sum.plus(l.priceRub), new Decimal(0)).toFixed(2);
const live = (lines: QticketsSaleLine[]) => lines.filter((l) => l.status === 'live');

/** A pino logger writing into an array, to check what reaches the logs. */
function capturingLogger() {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), text: () => chunks.join('') };
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error: unknown) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('recorded QTickets responses (fixtures README figures)', () => {
  it('gives exactly the per-MSK-payment-date table: paid orders, live lines, tickets, revenue', async () => {
    const s = await sandbox();
    const { lines, recordsRead } = await collect(client(s));
    const byDate: Record<string, [number, number, number, string]> = {};
    for (const date of new Set(lines.map((l) => l.saleDate))) {
      const day = lines.filter((l) => l.saleDate === date);
      const liveDay = live(day);
      byDate[date] = [
        new Set(day.map((l) => l.orderId)).size,
        liveDay.length,
        liveDay.reduce((n, l) => n + l.quantity, 0),
        sumRub(liveDay),
      ];
    }
    expect(byDate).toEqual(EXPECTED_BY_DATE);
    expect(new Set(lines.map((l) => l.orderId)).size).toBe(40);
    expect(live(lines)).toHaveLength(118);
    expect(live(lines).reduce((n, l) => n + l.quantity, 0)).toBe(118);
    expect(sumRub(live(lines))).toBe('11397.00');
    expect(recordsRead).toBe(40);
  });

  it('sends GET /orders with a JSON body: payed = 1 and the +03:00 payed_at range of the window', async () => {
    const s = await sandbox();
    await collect(client(s));
    const orders = s.stats.requests.filter((r) => r.path === '/orders');
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({ method: 'GET', status: 200 });
    expect(orders[0]?.body).toEqual({
      where: [
        { column: 'payed', value: 1 },
        { column: 'payed_at', operator: '>=', value: '2021-05-18T00:00:00+03:00' },
        { column: 'payed_at', operator: '<', value: '2021-06-14T00:00:00+03:00' },
      ],
      orderBy: { id: 'asc' },
      page: 1,
    });
    // The events are listed once per call (10 events, one page) and no event is fetched one by one.
    expect(s.stats.requests.filter((r) => r.path === '/events')).toHaveLength(1);
    expect(s.stats.requests.filter((r) => r.path.startsWith('/events/'))).toHaveLength(0);
  });

  it('maps event 24089 to Томск with its name and the MSK date of show 152887', async () => {
    const s = await sandbox();
    const { lines } = await collect(client(s));
    expect(
      new Set(lines.map((l) => `${l.eventId}|${l.eventName}|${l.cityName}|${l.showId}|${l.eventDate}`)),
    ).toEqual(new Set(['24089|Детская интерактивная выставка Корпорация Кубиков|Томск|152887|2021-06-16']));
    expect(new Set(lines.map((l) => l.currency))).toEqual(new Set(['RUB']));
  });

  it('buckets by the MSK date of payed_at, not UTC and not the city’s UTC+7 (the bucketing trap)', async () => {
    const s = await sandbox();
    const { lines } = await collect(client(s));
    const dateOf = (orderId: number) => lines.find((l) => l.orderId === orderId)?.saleDate;
    expect(dateOf(1642022)).toBe('2021-05-25'); // 20:24:57+03:00 = 00:24 next day in Tomsk
    expect(dateOf(1647743)).toBe('2021-05-27');
    expect(dateOf(1668457)).toBe('2021-06-03');
    expect(dateOf(1679564)).toBe('2021-06-07');
    const first = lines.find((l) => l.orderId === 1614202);
    expect(first?.payedAtUnix).toBe(Date.parse('2021-05-18T12:23:40+03:00') / 1000);
  });

  it('normalises utm [] to empty tags and keeps object tags as strings', async () => {
    const s = await sandbox();
    const { lines } = await collect(client(s));
    const empty = lines.filter((l) => UTM_EMPTY_ORDERS.includes(l.orderId));
    expect(new Set(empty.map((l) => l.orderId)).size).toBe(22); // 24 orders have utm [], 22 of them paid
    for (const l of empty) {
      expect([l.utmSource, l.utmMedium, l.utmCampaign, l.utmContent, l.utmTerm]).toEqual([
        '',
        '',
        '',
        '',
        '',
      ]);
    }
    const bySource = new Map<string, { orders: Set<number>; revenue: QticketsSaleLine[] }>();
    for (const l of live(lines)) {
      const entry = bySource.get(l.utmSource) ?? { orders: new Set(), revenue: [] };
      entry.orders.add(l.orderId);
      entry.revenue.push(l);
      bySource.set(l.utmSource, entry);
    }
    const summary = Object.fromEntries(
      [...bySource].map(([k, v]) => [k, [v.orders.size, sumRub(v.revenue)]]),
    );
    expect(summary).toEqual({
      '': [22, '2800.00'],
      insta: [6, '3266.00'],
      vk: [9, '2906.00'],
      yandex: [3, '2425.00'],
    });
    expect(lines.every((l) => typeof l.utmCampaign === 'string')).toBe(true);
    expect(lines.some((l) => /^\d+$/.test(l.utmCampaign))).toBe(true);
  });

  it('marks no recorded line refunded, and the 21 deleted baskets (refunded_amount 0) never live', async () => {
    const s = await sandbox();
    s.faults.ignoreFilters = true; // the unpaid orders reach the client too
    const { lines } = await collect(client(s));
    expect(lines.some((l) => l.status === 'refunded')).toBe(false);
    const deleted = ORDERS.flatMap((o) => (o.baskets as Json[]).filter((b) => b.deleted_at !== null));
    expect(deleted).toHaveLength(21);
    expect(deleted.every((b) => b.refunded_amount === 0 && b.refunded_at === null)).toBe(true);
    const deletedIds = new Set(deleted.map((b) => b.id as number));
    expect(lines.filter((l) => deletedIds.has(l.basketId))).toEqual([]); // they sit in unpaid orders
    expect(live(lines)).toHaveLength(118);
  });

  it('classifies deleted baskets as cancelled (not refunded) when their order is paid', async () => {
    // The unpaid, cancelled orders of the recording, as if they had been paid before cancellation.
    const cancelled = ORDERS.filter((o) => o.payed === false).map((o) => ({
      ...o,
      payed: true,
      payed_at: o.created_at,
    }));
    const s = await sandbox({ dataset: { orders: cancelled, events: EVENTS } });
    const { lines } = await collect(client(s), { fromDate: '2021-05-01', toDate: '2021-06-30' });
    expect(lines).toHaveLength(21);
    expect(
      lines.every(
        (l) => l.status === 'cancelled' && l.refundAmountRub === '0.00' && l.refundedAtUnix === null,
      ),
    ).toBe(true);
  });

  it('reads a refunded basket: status refunded, refunded_amount, refunded_at, and it wins over deleted_at', async () => {
    const order = structuredClone(ORDERS.find((o) => o.id === 1647743)) as Json;
    const [basket] = order.baskets as Json[];
    Object.assign(basket as Json, {
      refunded_at: '2021-05-29T11:00:00+03:00',
      deleted_at: '2021-05-29T11:00:00+03:00',
      refunded_amount: 264.6,
      refunded_deduction_amount: 29.4,
    });
    const s = await sandbox({ dataset: { orders: [order], events: EVENTS } });
    const { lines } = await collect(client(s));
    const refunded = lines.filter((l) => l.status === 'refunded');
    expect(refunded).toHaveLength(1);
    expect(refunded[0]).toMatchObject({
      basketId: (basket as Json).id,
      refundAmountRub: '264.60',
      refundedAtUnix: Date.parse('2021-05-29T11:00:00+03:00') / 1000,
      saleDate: '2021-05-27',
    });
    expect(live(lines)).toHaveLength((order.baskets as Json[]).length - 1);
  });

  it('reads a per-language event name, numeric utm values and string money', async () => {
    const event = { ...EVENTS.find((e) => e.id === 24089), name: { ru: 'Выставка', en: 'Exhibition' } };
    const order = structuredClone(ORDERS.find((o) => o.id === 1652749)) as Json;
    order.utm = { utm_source: 'vk', utm_campaign: 62384014, utm_term: 'детский' };
    (order.baskets as Json[])[0] = { ...(order.baskets as Json[])[0], price: '294.5' };
    const s = await sandbox({ dataset: { orders: [order], events: [event] } });
    const { lines } = await collect(client(s));
    expect(lines[0]).toMatchObject({
      eventName: 'Выставка',
      cityName: 'Томск',
      utmSource: 'vk',
      utmCampaign: '62384014',
      utmMedium: '',
      utmTerm: 'детский',
      priceRub: '294.50',
    });
  });

  it('asks GET /events/{id} once for an event missing from the list; 404 leaves name, city and date empty', async () => {
    const s = await sandbox({ dataset: { orders: ORDERS, events: [] } });
    const logs = capturingLogger();
    const { lines } = await collect(client(s, { logger: logs.logger }));
    expect(live(lines)).toHaveLength(118);
    expect(lines.every((l) => l.eventName === '' && l.cityName === '' && l.eventDate === null)).toBe(true);
    const byId = s.stats.requests.filter((r) => r.path === '/events/24089');
    expect(byId).toEqual([{ method: 'GET', path: '/events/24089', body: undefined, status: 404 }]);
    expect(logs.text()).toContain('"eventId":24089');
  });
});

describe('paging follows the server', () => {
  it('walks the pages of the server’s perPage (7) and stops at total', async () => {
    const s = await sandbox({ ordersPerPage: 7 });
    const { lines, batches, recordsRead } = await collect(client(s));
    expect(batches).toBe(6); // 40 paid orders, 7 a page
    expect(recordsRead).toBe(40);
    expect(live(lines)).toHaveLength(118);
    expect(sumRub(live(lines))).toBe('11397.00');
    const pages = s.stats.requests.filter((r) => r.path === '/orders').map((r) => (r.body as Json).page);
    expect(pages).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('asks for perPage when configured, but follows the response when the server ignores it', async () => {
    const s = await sandbox({ ordersPerPage: 7 });
    s.faults.ignorePerPage = true;
    const { lines, batches } = await collect(client(s, { perPage: 25 }));
    expect(batches).toBe(6);
    expect(live(lines)).toHaveLength(118);
    const first = s.stats.requests.find((r) => r.path === '/orders');
    expect(first?.body).toMatchObject({ perPage: 25, page: 1 });

    const honoured = await sandbox({ ordersPerPage: 7 });
    const again = await collect(client(honoured, { perPage: 25 }));
    expect(again.batches).toBe(2);
    expect(sumRub(live(again.lines))).toBe('11397.00');
  });

  it('re-checks the window locally when the server ignores the filters', async () => {
    const s = await sandbox();
    s.faults.ignoreFilters = true;
    const { lines, recordsRead } = await collect(client(s), { fromDate: '2021-05-27', toDate: '2021-05-27' });
    expect(recordsRead).toBe(50); // the whole page came back, unpaid orders included
    expect(new Set(lines.map((l) => l.saleDate))).toEqual(new Set(['2021-05-27']));
    expect(new Set(lines.map((l) => l.orderId)).size).toBe(2);
    expect(live(lines)).toHaveLength(5);
    expect(sumRub(live(lines))).toBe('1060.00');
  });
});

describe('upstream failures', () => {
  const SECRET = 'very-secret-qtickets-token-0042';

  it('maps 403 to UpstreamAuthError without retrying and without the token in the message', async () => {
    const s = await sandbox({ token: 'the-right-token-1234' });
    const error = await rejectionOf(collect(client(s, { token: SECRET })));
    expect(error).toBeInstanceOf(UpstreamAuthError);
    expect(error).toMatchObject({ status: 403, upstream: 'qtickets' });
    expect((error as Error).message).toContain('QTickets refused the token (HTTP 403)');
    expect((error as Error).message).toContain('QTICKETS_TOKEN');
    expect((error as Error).message).not.toContain(SECRET);
    expect(s.stats.requests).toHaveLength(1);
  });

  it('maps 401 to UpstreamAuthError too', async () => {
    const s = await sandbox({ authFailureStatus: 401 });
    const error = await rejectionOf(collect(client(s, { token: SECRET })));
    expect(error).toBeInstanceOf(UpstreamAuthError);
    expect(error).toMatchObject({ status: 401 });
    expect((error as Error).message).not.toContain(SECRET);
  });

  it('retries a 503 and a 429 and still returns every line; the token reaches no log line', async () => {
    const s = await sandbox({ token: SECRET });
    s.faults.serverErrorsNext = 1;
    s.faults.rateLimitNext = 1;
    s.faults.retryAfterSeconds = 0;
    const logs = capturingLogger();
    const { lines } = await collect(client(s, { logger: logs.logger }));
    expect(live(lines)).toHaveLength(118);
    expect(sumRub(live(lines))).toBe('11397.00');
    expect(s.stats.requests.filter((r) => r.path === '/orders').map((r) => r.status)).toEqual([
      503, 429, 200,
    ]);
    expect(logs.text()).toContain('retrying');
    expect(logs.text()).not.toContain(SECRET);
  });

  it('survives a dropped connection', async () => {
    const s = await sandbox();
    s.faults.connectionResetsNext = 1;
    const { lines } = await collect(client(s));
    expect(live(lines)).toHaveLength(118);
  });

  it('gives a readable UpstreamHttpError when /orders stays down (503 UNKNOWN_ERROR)', async () => {
    const s = await sandbox({ token: SECRET });
    s.faults.outage = true;
    s.faults.pathPrefix = '/orders';
    const error = await rejectionOf(collect(client(s)));
    expect(error).toBeInstanceOf(UpstreamHttpError);
    expect(error).not.toBeInstanceOf(UpstreamAuthError);
    expect(error).toMatchObject({ status: 503, upstreamCode: 'UNKNOWN_ERROR', upstream: 'qtickets' });
    const message = (error as Error).message;
    expect(message).toMatch(
      /^QTickets GET \/orders kept failing .*HTTP 503.*after 4 attempts.*run the job again later/,
    );
    expect(message).not.toContain(SECRET);
    expect(s.stats.requests.filter((r) => r.path === '/orders')).toHaveLength(RETRY.retries + 1);
  });

  it('maps any other error status to UpstreamHttpError with the body’s code or error', async () => {
    const s = await sandbox();
    const error = await rejectionOf(collect(client(s, { apiUrl: `${s.url}/v2` })));
    expect(error).toBeInstanceOf(UpstreamHttpError);
    expect(error).toMatchObject({ status: 404, upstreamCode: 'Not found' });
    expect((error as Error).message).toBe('QTickets GET /orders answered HTTP 404: Not found');
  });

  it('maps a body of the wrong shape, or no JSON at all, to UpstreamFormatError', async () => {
    const s = await sandbox();
    s.faults.malformedNext = 1;
    const shape = await rejectionOf(collect(client(s)));
    expect(shape).toBeInstanceOf(UpstreamFormatError);
    expect((shape as Error).message).toMatch(
      /^QTickets GET \/orders page 1 answered with an unexpected shape: data:/,
    );

    s.faults.malformedNext = 1;
    s.faults.malformedBody = '<html><body>502 Bad Gateway</body></html>';
    const html = await rejectionOf(collect(client(s)));
    expect(html).toBeInstanceOf(UpstreamFormatError);
    expect((html as Error).message).toContain('not JSON: <html>');
  });

  it('maps an unreachable host to UpstreamNetworkError', async () => {
    const s = await startQticketsSandbox({ dataset: { orders: [], events: [] } });
    const url = s.url;
    await s.close();
    const source = createQticketsClient({
      apiUrl: url,
      token: SECRET,
      timezone: ZONE,
      retry: { ...RETRY, retries: 0 },
    });
    const error = await rejectionOf(collect(source));
    expect(error).toBeInstanceOf(UpstreamNetworkError);
    expect((error as Error).message).not.toContain(SECRET);
  });

  it('times out a slow answer as UpstreamNetworkError', async () => {
    const s = await sandbox();
    s.faults.delayMs = 200;
    const error = await rejectionOf(
      collect(client(s, { retry: { ...RETRY, retries: 0, attemptTimeoutMs: 20 } })),
    );
    expect(error).toBeInstanceOf(UpstreamNetworkError);
    expect((error as Error).message).toContain('within 20 ms');
  });

  it('stops between pages when the signal aborts', async () => {
    const s = await sandbox({ ordersPerPage: 7 });
    const controller = new AbortController();
    const source = client(s);
    let batches = 0;
    const error = await rejectionOf(
      (async () => {
        for await (const batch of source.salesPaidIn(RECORDED, controller.signal)) {
          batches += batch.recordsRead > 0 ? 1 : 0;
          controller.abort(new Error('shutdown'));
        }
      })(),
    );
    expect(batches).toBe(1);
    expect((error as Error).message).toBe('shutdown');
    expect(s.stats.requests.filter((r) => r.path === '/orders')).toHaveLength(1);
  });
});

describe('PHP-style polymorphism helpers', () => {
  it('normalise [], "", objects, flags and names', () => {
    expect(phpAssoc([])).toEqual({});
    expect(phpAssoc('')).toEqual({});
    expect(phpAssoc(null)).toEqual({});
    expect(phpAssoc({ roistat: { roistat_visit: '1' } })).toEqual({ roistat: { roistat_visit: '1' } });
    expect(phpAssoc(['a'])).toEqual({ 0: 'a' });
    expect(phpAssoc('data-custom text')).toEqual({ value: 'data-custom text' });
    expect([phpFlag(1), phpFlag(0), phpFlag(true), phpFlag('1'), phpFlag('yes')]).toEqual([
      true,
      false,
      true,
      true,
      null,
    ]);
    expect(utmTags([])).toEqual({
      utmSource: '',
      utmMedium: '',
      utmCampaign: '',
      utmContent: '',
      utmTerm: '',
    });
    expect(utmTags({ utm_source: ' vk ', utm_campaign: 107921416, utm_term: null })).toEqual({
      utmSource: 'vk',
      utmMedium: '',
      utmCampaign: '107921416',
      utmContent: '',
      utmTerm: '',
    });
    expect([localizedText('Щелкунчик'), localizedText({ en: 'Nutcracker' }), localizedText(null)]).toEqual([
      'Щелкунчик',
      'Nutcracker',
      '',
    ]);
  });
});
