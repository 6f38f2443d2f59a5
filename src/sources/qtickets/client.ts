/**
 * QTickets REST v1 client: the orders paid in a window of business dates, as sale lines.
 *
 * Wire facts it relies on (reference §2, https://qtickets.help/article/rest-api/):
 * - list filters travel in the JSON body of a GET, so every call goes through `sendWithRetry`
 *   (undici `request`); the global `fetch` refuses GET bodies;
 * - paging is read from the response (`paging.perPage/currentPage/total`), never assumed;
 * - the server may ignore filters, so the window is re-checked locally;
 * - timestamps are instants written with `+03:00`; sale dates are taken in the ETL zone.
 */
import type { Logger } from 'pino';
import type { z } from 'zod';
import { UpstreamAuthError, UpstreamFormatError, UpstreamHttpError } from '../../errors.js';
import { bodyExcerpt, sendWithRetry, type HttpResponse, type RetryPolicy } from '../../http/request.js';
import { addDays, startOfDayIso, type DateWindow } from '../../time/dates.js';
import { createScrubber } from '../../util/scrub.js';
import type { QticketsSalesBatch, QticketsSource } from '../types.js';
import { BusinessDates } from './businessDates.js';
import { EventCatalog } from './eventCatalog.js';
import { isPaidIn, saleLinesOf } from './saleLines.js';
import {
  describeIssues,
  errorBodySchema,
  eventEnvelopeSchema,
  eventsPageSchema,
  ordersPageSchema,
  type QticketsOrder,
} from './schemas.js';

const UPSTREAM = 'qtickets';

/** Options of `createQticketsClient`. */
export interface QticketsClientOptions {
  /**
   * REST v1 root without a trailing slash, e.g. `https://qtickets.ru/api/rest/v1` (QTICKETS_API_URL);
   * a sandbox's `url` in tests and the demo.
   */
  apiUrl: string;
  /** The organizer's API token (QTICKETS_TOKEN), sent as `Authorization: Bearer …`; never logged. */
  token: string;
  /** IANA zone of business dates (ETL_TIMEZONE), e.g. `Europe/Moscow`. */
  timezone: string;
  /** Retries of 429, 5xx and network failures (see `RetryPolicy` for units and defaults). */
  retry: RetryPolicy;
  /** Receives one debug line per page and warnings for unknown events. @default none */
  logger?: Logger | undefined;
  /**
   * Page size asked for in the body (`perPage`). Whether QTickets honours it is unconfirmed; paging
   * always follows the response's `paging`. @default undefined (not sent: orders come 50, events 10 a page)
   */
  perPage?: number | undefined;
}

/** A 2xx body parsed as JSON, or `notFound` when 404 was allowed and returned. */
type GetResult = { found: true; json: unknown } | { found: false };

/**
 * Creates the QTickets source used by the `qtickets_fetch` job.
 *
 * `salesPaidIn(window, signal)` sends `GET {apiUrl}/orders` with the body
 * `{where: [payed = 1, payed_at >= <fromDate>T00:00:00+03:00, payed_at < <toDate + 1>T00:00:00+03:00],
 * orderBy: {id: "asc"}, page: N}` (offsets rendered in `timezone`), page after page, and yields one
 * batch per page: a line per basket of every paid order whose `payed_at` falls in the window (in
 * `timezone`; `recordsRead` = orders on the page, before this re-check). Event names, cities and
 * show dates come from `GET {apiUrl}/events` (all pages, once per call); an event missing from the
 * list is fetched by `GET /events/{id}`, and a 404 there leaves the lines with eventName '',
 * cityName '' and eventDate null.
 *
 * @throws UpstreamAuthError on 401 or 403 (the token is refused; retrying cannot help);
 *         UpstreamHttpError on any other error status, or on 429/5xx that outlast the retries;
 *         UpstreamNetworkError when QTickets cannot be reached; UpstreamFormatError when a 2xx body
 *         is not JSON of the documented shape; the signal's reason when `signal` aborts.
 *         No message or log line contains the token.
 */
export function createQticketsClient(options: QticketsClientOptions): QticketsSource {
  const base = options.apiUrl.replace(/\/+$/, '');
  const { timezone, logger } = options;
  const scrub = createScrubber([options.token]);
  const headers = {
    Authorization: `Bearer ${options.token}`,
    Accept: 'application/json',
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache',
  };
  const sizeHint = options.perPage === undefined ? {} : { perPage: options.perPage };

  function errorBody(response: HttpResponse): z.output<typeof errorBodySchema> | undefined {
    try {
      const parsed = errorBodySchema.safeParse(JSON.parse(response.bodyText));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  async function get(
    path: string,
    body: object | undefined,
    signal: AbortSignal | undefined,
    allow404: boolean,
  ): Promise<GetResult> {
    const what = `GET ${path}`;
    let response: HttpResponse;
    try {
      response = await sendWithRetry(
        {
          method: 'GET',
          url: `${base}${path}`,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal,
        },
        { upstream: UPSTREAM, policy: options.retry, logger },
      );
    } catch (error: unknown) {
      if (error instanceof UpstreamHttpError) {
        const code = /"code"\s*:\s*"([A-Z_]+)"/.exec(error.message)?.[1];
        throw new UpstreamHttpError(
          UPSTREAM,
          error.status,
          code,
          scrub(
            `QTickets ${what} kept failing (${error.message}). ` +
              'QTickets may be down or limiting requests; run the job again later.',
          ),
          { cause: error },
        );
      }
      throw error;
    }
    const { status } = response;
    if (status === 401 || status === 403) {
      throw new UpstreamAuthError(
        UPSTREAM,
        status,
        errorBody(response)?.code,
        scrub(
          `QTickets refused the token (HTTP ${status}) on ${what}: check QTICKETS_TOKEN (the organizer's ` +
            `REST API token from "Настройки – Основное") and that QTICKETS_API_URL (${base}) is the REST v1 root.`,
        ),
      );
    }
    if (status === 404 && allow404) return { found: false };
    if (status < 200 || status >= 300) {
      const parsed = errorBody(response);
      const code = parsed?.code ?? parsed?.error;
      throw new UpstreamHttpError(
        UPSTREAM,
        status,
        code,
        scrub(
          `QTickets ${what} answered HTTP ${status}` +
            (parsed?.code ? ` ${parsed.code}` : '') +
            `: ${parsed?.error ?? bodyExcerpt(response.bodyText)}`,
        ),
      );
    }
    try {
      return { found: true, json: JSON.parse(response.bodyText) as unknown };
    } catch (error: unknown) {
      throw new UpstreamFormatError(
        UPSTREAM,
        scrub(
          `QTickets ${what} answered HTTP ${status} with a body that is not JSON: ${bodyExcerpt(response.bodyText)}`,
        ),
        { cause: error },
      );
    }
  }

  function parse<S extends z.ZodType>(schema: S, json: unknown, what: string): z.output<S> {
    const result = schema.safeParse(json);
    if (!result.success) {
      throw new UpstreamFormatError(
        UPSTREAM,
        scrub(`QTickets ${what} answered with an unexpected shape: ${describeIssues(result.error)}`),
        { cause: result.error },
      );
    }
    return result.data;
  }

  /** Loads every page of `GET /events` into `catalog`. */
  async function loadEventList(catalog: EventCatalog, signal: AbortSignal | undefined): Promise<void> {
    for (let page = 1; ;) {
      const startedMs = Date.now();
      const result = await get('/events', { orderBy: { id: 'asc' }, page, ...sizeHint }, signal, false);
      const { data, paging } = parse(
        eventsPageSchema,
        result.found ? result.json : undefined,
        `GET /events page ${page}`,
      );
      for (const event of data) catalog.add(event);
      logger?.debug(
        {
          upstream: UPSTREAM,
          path: '/events',
          page,
          perPage: paging.perPage,
          total: paging.total,
          durationMs: Date.now() - startedMs,
        },
        'qtickets events page read',
      );
      if (data.length === 0 || paging.currentPage * paging.perPage >= paging.total) return;
      page = paging.currentPage + 1;
    }
  }

  /** Makes sure every event id of `orders` is in `catalog` (listing first, then one by one). */
  async function resolveEvents(
    catalog: EventCatalog,
    state: { listed: boolean },
    orders: QticketsOrder[],
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (orders.length === 0) return;
    if (!state.listed) {
      await loadEventList(catalog, signal);
      state.listed = true;
    }
    for (const eventId of new Set(orders.map((o) => o.event_id))) {
      if (catalog.has(eventId)) continue;
      const result = await get(`/events/${eventId}`, undefined, signal, true);
      if (result.found) {
        catalog.add(parse(eventEnvelopeSchema, result.json, `GET /events/${eventId}`).data);
      } else {
        catalog.markUnknown(eventId);
        logger?.warn(
          { upstream: UPSTREAM, eventId },
          'qtickets does not know an event referenced by orders (404)',
        );
      }
    }
  }

  async function* salesPaidIn(window: DateWindow, signal?: AbortSignal): AsyncGenerator<QticketsSalesBatch> {
    if (window.fromDate > window.toDate) return;
    const where = [
      { column: 'payed', value: 1 },
      { column: 'payed_at', operator: '>=', value: startOfDayIso(window.fromDate, timezone) },
      { column: 'payed_at', operator: '<', value: startOfDayIso(addDays(window.toDate, 1), timezone) },
    ];
    const dates = new BusinessDates(timezone);
    const catalog = new EventCatalog(dates);
    const events = { listed: false };
    // An order that moves between pages while we read (new orders shift offsets) is counted once.
    const seenOrderIds = new Set<number>();
    for (let page = 1; ;) {
      signal?.throwIfAborted();
      const startedMs = Date.now();
      const result = await get(
        '/orders',
        { where, orderBy: { id: 'asc' }, page, ...sizeHint },
        signal,
        false,
      );
      const { data, paging } = parse(
        ordersPageSchema,
        result.found ? result.json : undefined,
        `GET /orders page ${page}`,
      );
      if (data.length > 0 && paging.currentPage !== page) {
        throw new UpstreamFormatError(
          UPSTREAM,
          `QTickets GET /orders answered page ${paging.currentPage} when page ${page} was asked; ` +
            'stopping rather than counting orders twice.',
        );
      }
      const kept = data.filter((order) => {
        if (seenOrderIds.has(order.id)) return false;
        seenOrderIds.add(order.id);
        return isPaidIn(order, window, dates);
      });
      await resolveEvents(catalog, events, kept, signal);
      const lines = kept.flatMap((order) => saleLinesOf(order, catalog, dates));
      logger?.debug(
        {
          upstream: UPSTREAM,
          path: '/orders',
          page,
          perPage: paging.perPage,
          total: paging.total,
          ordersRead: data.length,
          ordersKept: kept.length,
          linesBuilt: lines.length,
          durationMs: Date.now() - startedMs,
        },
        'qtickets orders page read',
      );
      if (data.length > 0) yield { lines, recordsRead: data.length };
      if (data.length === 0 || paging.currentPage * paging.perPage >= paging.total) return;
      page = paging.currentPage + 1;
    }
  }

  /** One page of events: proves the token is accepted. */
  async function checkAccess(signal?: AbortSignal): Promise<string> {
    const result = await get('/events', { orderBy: { id: 'asc' }, page: 1, ...sizeHint }, signal, false);
    const { paging } = parse(eventsPageSchema, result.found ? result.json : undefined, 'GET /events page 1');
    return `token ok; ${paging.total} events`;
  }

  return { salesPaidIn, checkAccess };
}
