/**
 * The recorded QTickets production responses (test/fixtures/qtickets, personal details replaced),
 * served by a local server, loaded by qtickets_fetch into zakaz.stg_qtickets_sales and built into
 * zakaz.dm_sales_daily: the figures must be exactly those of the fixtures' README.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandboxApp, type SandboxApp } from './helpers/app.js';
import { tempDir } from './helpers/env.js';

const load = (name: string) =>
  (
    JSON.parse(readFileSync(new URL(`./fixtures/qtickets/${name}`, import.meta.url), 'utf8')) as {
      data: unknown[];
    }
  ).data;

// MSK payment date → [paid orders, live lines, tickets, revenue in rubles] (fixtures README).
const EXPECTED: Record<string, [number, number, number, number]> = {
  '2021-05-18': [1, 1, 1, 4],
  '2021-05-25': [1, 1, 1, 0],
  '2021-05-26': [1, 1, 1, 0],
  '2021-05-27': [2, 5, 5, 1060],
  '2021-05-29': [2, 5, 5, 1290],
  '2021-05-31': [3, 18, 18, 0],
  '2021-06-02': [3, 11, 11, 920],
  '2021-06-03': [1, 2, 2, 756],
  '2021-06-04': [4, 6, 6, 0],
  '2021-06-05': [3, 14, 14, 756],
  '2021-06-06': [2, 5, 5, 1505],
  '2021-06-07': [2, 7, 7, 0],
  '2021-06-08': [1, 2, 2, 880],
  '2021-06-09': [1, 2, 2, 704],
  '2021-06-10': [6, 11, 11, 980],
  '2021-06-11': [6, 26, 26, 2150],
  '2021-06-13': [1, 1, 1, 392],
};

let s: SandboxApp;
const window = { from: '2021-05-01', to: '2021-06-30' };

beforeAll(async () => {
  s = await startSandboxApp(tempDir(), {
    qt: { dataset: { orders: load('orders_page1.json'), events: load('events_page1.json') } },
  });
});
afterAll(async () => {
  await s.close();
});

describe('recorded QTickets responses into staging and the sales mart', () => {
  it('stages exactly the paid orders, live tickets and revenue per MSK payment date', async () => {
    const record = await s.app.runner.run({ job: 'qtickets_fetch', window, trigger: 'cli' });
    expect(record.status).toBe('ok');
    // The server filters payed = 1 (the 10 unpaid orders never arrive); the client re-checks locally.
    expect(record.rowsRead).toBe(40);
    const rows = await s.app.db.query<{
      d: string;
      orders: string;
      lines: string;
      tickets: string;
      revenue: string;
    }>(
      `SELECT toString(sale_date) AS d, uniqExact(order_id) AS orders, count() AS lines, sum(quantity) AS tickets,
              toString(sum(price)) AS revenue
       FROM zakaz.stg_qtickets_sales WHERE status = 'live' GROUP BY sale_date ORDER BY sale_date`,
    );
    const actual = Object.fromEntries(
      rows.map((r) => [r.d, [Number(r.orders), Number(r.lines), Number(r.tickets), Number(r.revenue)]]),
    );
    expect(actual).toEqual(EXPECTED);
    const [totals] = await s.app.db.query<Record<string, string>>(
      `SELECT uniqExact(order_id) AS orders, countIf(status = 'live') AS live, toString(sumIf(price, status = 'live')) AS revenue,
              countIf(status = 'refunded') AS refunded, count() AS lines, uniqExact(city) AS cities, any(city) AS any_city,
              any(event_name) AS event
       FROM zakaz.stg_qtickets_sales`,
    );
    expect(totals).toMatchObject({
      orders: '40',
      live: '118',
      revenue: '11397',
      refunded: '0',
      cities: '1',
      any_city: 'Томск',
    });
    expect(totals?.event).toMatch(/Корпорация Кубиков/);
    // Unpaid orders (their 21 deleted baskets) are not staged at all.
    expect(Number(totals?.lines)).toBe(118);
  });

  it('builds the sales mart with the same figures', async () => {
    const record = await s.app.runner.run({ job: 'build_dm_sales', window, trigger: 'cli' });
    expect(record.status).toBe('ok');
    const rows = await s.app.db.query<{
      d: string;
      orders: string;
      tickets: string;
      revenue: string;
      net: string;
    }>(
      `SELECT toString(sale_date) AS d, sum(orders) AS orders, sum(tickets_sold) AS tickets,
              toString(sum(revenue)) AS revenue, toString(sum(net_revenue)) AS net
       FROM zakaz.dm_sales_daily GROUP BY sale_date ORDER BY sale_date`,
    );
    expect(
      Object.fromEntries(rows.map((r) => [r.d, [Number(r.orders), Number(r.tickets), Number(r.revenue)]])),
    ).toEqual(Object.fromEntries(Object.entries(EXPECTED).map(([d, [o, , t, rev]]) => [d, [o, t, rev]])));
    expect(rows.every((r) => r.revenue === r.net)).toBe(true);
  });
});
