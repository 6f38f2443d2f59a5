/**
 * qtickets_fetch: QTickets REST v1 orders paid in the window (their ticket lines, with event,
 * show date and city) → zakaz.stg_qtickets_sales. One page of orders is inserted at a time into a
 * tmp table; the window is swapped in per MSK payment day only when the whole fetch succeeded.
 */
import { loadCityAliases } from '../src/clickhouse/cityAliases.js';
import { replaceWindow } from '../src/clickhouse/replaceWindow.js';
import { STG_QTICKETS_SALES } from '../src/marts/tables.js';
import type { Job } from '../src/runner/job.js';
import { createCityResolver } from '../src/sources/cityResolver.js';
import { unixToBusinessDate } from '../src/time/dates.js';

export const qticketsFetch: Job = {
  name: 'qtickets_fetch',
  summary: 'QTickets REST v1 orders paid in the window → zakaz.stg_qtickets_sales (one row per ticket line)',
  missingConfig: (config) =>
    config.qtickets.token
      ? []
      : ['QTICKETS_TOKEN: required by qtickets_fetch (QTickets → Settings → Main → API token)'],
  async run(ctx) {
    const resolveCity = createCityResolver(await loadCityAliases(ctx.db));
    const source = ctx.sources.qtickets();
    const zone = ctx.config.timezone;
    const loadedAt = Math.floor(Date.now() / 1000);
    let rowsRead = 0;
    const result = await replaceWindow(
      ctx.db,
      STG_QTICKETS_SALES,
      ctx.window,
      ctx.runId,
      async (tmp) => {
        for await (const batch of source.salesPaidIn(ctx.window, ctx.signal)) {
          rowsRead += batch.recordsRead;
          if (batch.lines.length === 0) continue;
          await ctx.db.insert(
            tmp,
            batch.lines.map((l) => ({
              sale_date: l.saleDate,
              payed_at: l.payedAtUnix,
              order_id: String(l.orderId),
              basket_id: String(l.basketId),
              event_id: String(l.eventId),
              event_name: l.eventName,
              show_id: String(l.showId),
              event_date: l.eventDate,
              city: resolveCity([l.cityName]) || l.cityName,
              city_raw: l.cityName,
              price: l.priceRub,
              quantity: l.quantity,
              status: l.status,
              refunded_at: l.refundedAtUnix,
              refund_date: l.refundedAtUnix === null ? null : unixToBusinessDate(l.refundedAtUnix, zone),
              refund_amount: l.refundAmountRub,
              currency: l.currency,
              utm_source: l.utmSource,
              utm_medium: l.utmMedium,
              utm_campaign: l.utmCampaign,
              utm_content: l.utmContent,
              utm_term: l.utmTerm,
              run_id: ctx.runId,
              loaded_at: loadedAt,
            })),
            ctx.signal,
          );
        }
      },
      ctx.signal,
    );
    return { rowsRead, rowsWritten: result.rowsWritten };
  },
};
