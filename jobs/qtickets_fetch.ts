/**
 * qtickets_fetch: QTickets REST v1 orders paid in the window (their ticket lines, with event,
 * show date and city) → zakaz.stg_qtickets_sales. One page of orders at a time goes to a tmp
 * table; the window is swapped in per MSK payment day only when the whole fetch succeeded.
 */
import { stageWindow } from '../src/marts/stageWindow.js';
import { STG_QTICKETS_SALES } from '../src/marts/tables.js';
import type { Job, JobContext } from '../src/runner/job.js';
import type { QticketsSaleLine } from '../src/sources/types.js';
import { unixToBusinessDate } from '../src/time/dates.js';

async function* batches(ctx: JobContext) {
  for await (const batch of ctx.sources.qtickets().salesPaidIn(ctx.window, ctx.signal)) {
    yield { items: batch.lines, recordsRead: batch.recordsRead };
  }
}

export const qticketsFetch: Job = {
  name: 'qtickets_fetch',
  summary: 'QTickets REST v1 orders paid in the window → zakaz.stg_qtickets_sales (one row per ticket line)',
  missingConfig: (config) =>
    config.qtickets.token
      ? []
      : ['QTICKETS_TOKEN: required by qtickets_fetch (QTickets → Settings → Main → API token)'],
  run: (ctx) =>
    stageWindow<QticketsSaleLine>(ctx, STG_QTICKETS_SALES, batches(ctx), (l, resolveCity, loadedAt) => ({
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
      refund_date:
        l.refundedAtUnix === null ? null : unixToBusinessDate(l.refundedAtUnix, ctx.config.timezone),
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
};
