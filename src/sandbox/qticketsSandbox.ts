/**
 * A local QTickets REST v1 server for tests and `etl demo`, speaking the real wire format
 * (reference §2.9; https://qtickets.help/article/rest-api/): bearer auth, list filters in the
 * JSON body of a GET, `{data, paging}` envelopes, the real 404 and 503 bodies. It serves either
 * seeded generated data (`qticketsData.ts`, `qticketsCatalog.ts`) or exactly a given dataset
 * (recorded fixtures). Faults are switched on per request through the mutable `faults` object.
 * node:http only: it must read bodies on GET, which frameworks' body parsers often skip.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  eventIdOf,
  eventPlan,
  eventSlotOf,
  EVENTS_PER_SEASON,
  renderEvent,
  seasonOfDay,
} from './qticketsCatalog.js';
import {
  dayOfOrderId,
  lastChangeOf,
  planDay,
  renderOrder,
  type PlannedOrder,
  type QticketsScenarios,
} from './qticketsData.js';
import {
  matchesWhere,
  paginate,
  parseListQuery,
  rangeOf,
  sortItems,
  type ListQuery,
  type WhereClause,
} from './qticketsQuery.js';
import { dateOfDayNumber, mskDayOfUnix, mskIso } from './qticketsRandom.js';

/** Path of the REST v1 root on the sandbox, as on qtickets.ru. */
export const QTICKETS_API_PREFIX = '/api/rest/v1';

/**
 * Fault switches, read on every request; tests and the demo change them while the sandbox runs.
 * Counters (`…Next`) are consumed one per matching request. Faults apply after the auth check and
 * only to requests whose API path starts with `pathPrefix` (all requests when null).
 */
export interface QticketsFaults {
  /** Extra latency of every response (before auth), ms; for timeout tests. @default 0 */
  delayMs: number;
  /** Only requests whose path (below /api/rest/v1) starts with this are hit, e.g. '/orders'. @default null */
  pathPrefix: string | null;
  /** The next N requests answer `serverErrorStatus` with `{"error":"Unknown error","status":…,"code":"UNKNOWN_ERROR","info":[]}`. @default 0 */
  serverErrorsNext: number;
  /** Status of `serverErrorsNext` and `outage` answers. @default 503 */
  serverErrorStatus: number;
  /** The next N requests answer 429 with a `Retry-After` header. @default 0 */
  rateLimitNext: number;
  /** `Retry-After` of the 429 answers, seconds. @default 1 */
  retryAfterSeconds: number;
  /** Permanent failure: while true, every request answers `serverErrorStatus` (as /orders once did for weeks). @default false */
  outage: boolean;
  /** The next N requests get their connection destroyed without an answer (a network error). @default 0 */
  connectionResetsNext: number;
  /** The next N requests answer 200 with `malformedBody`. @default 0 */
  malformedNext: number;
  /** Body of the malformed answers. @default '{"data":"malformed"}' */
  malformedBody: string;
  /** Status for a wrong or missing token: 403 as observed, or 401. @default the option, else 403 */
  authFailureStatus: 401 | 403;
  /** Lists ignore `where` (answer as if unfiltered), like servers that drop filters silently. @default false */
  ignoreFilters: boolean;
  /** Lists ignore the client's `perPage` and use the sandbox's page size. @default false */
  ignorePerPage: boolean;
}

/** One request as the sandbox received it. `path` is below /api/rest/v1, e.g. `/orders`. */
export interface QticketsRecordedRequest {
  method: string;
  path: string;
  /** The JSON body (parsed), the raw text when it was not JSON, or undefined when empty. */
  body: unknown;
  /** Status answered; 0 when the connection was reset or the answer is still pending. */
  status: number;
}

/** Options of `startQticketsSandbox`. */
export interface QticketsSandboxOptions {
  /** Seed of the generated data; the same seed serves the same data after a restart. @default 1 */
  seed?: number;
  /** Interface to listen on. @default '127.0.0.1' */
  host?: string;
  /** TCP port; 0 picks a free one. @default 0 */
  port?: number;
  /** The token accepted as `Authorization: Bearer <token>`. @default 'qtickets-sandbox-token' */
  token?: string;
  /** Status for a wrong token (also switchable later via `faults.authFailureStatus`). @default 403 */
  authFailureStatus?: 401 | 403;
  /** Serve exactly these `Order` and `Event` objects (e.g. recorded fixtures) instead of generated data. */
  dataset?: { orders: unknown[]; events: unknown[] };
  /** Page size of `GET /orders` when the client sends no `perPage`. @default 50 */
  ordersPerPage?: number;
  /** Page size of `GET /events` when the client sends no `perPage`. @default 10 */
  eventsPerPage?: number;
  /** Scenario switches of the generated data (fixed for the sandbox's life). @default {} */
  scenarios?: QticketsScenarios;
  /**
   * The sandbox's clock for generated data: orders created later are not served, and later
   * cancellations, refunds and scans are not visible yet. @default () => new Date()
   */
  now?: () => Date;
  /**
   * Days of history before today (MSK) served by `GET /orders` without a lower `payed_at`/
   * `created_at`/`id` bound, and covered by the `GET /events` list. Older dates are still served
   * when asked for explicitly; their events resolve through `GET /events/{id}`. @default 400
   */
  historyDays?: number;
}

/** A running sandbox. */
export interface QticketsSandbox {
  /** REST v1 root to pass as `apiUrl`, e.g. `http://127.0.0.1:41234/api/rest/v1`. */
  url: string;
  /** The accepted token. */
  token: string;
  /** Mutable fault switches (see `QticketsFaults`). */
  faults: QticketsFaults;
  /** Every request received, oldest first (the last 10 000). */
  stats: { requests: QticketsRecordedRequest[] };
  /** Stops listening and drops open connections; calling it again does nothing. */
  close(): Promise<void>;
}

const MAX_RECORDED_REQUESTS = 10_000;
/** Most days one `GET /orders` will generate (about ten years). */
const MAX_GENERATED_DAYS = 3_700;
/** Days of generated orders kept in memory (~12 orders, ~50 KB a day): a 400-day demo twice over. */
const DAY_CACHE_SIZE = 800;
/** Filtered lists kept for paging (per query and clock second). */
const LIST_CACHE_SIZE = 8;
const MAX_BODY_BYTES = 5 * 1024 * 1024;

type Reply = { status: number; body: unknown; headers?: Record<string, string> };

const notFound = (resource: 'Order' | 'Event', id: number | string): Reply => ({
  status: 404,
  body: {
    error: `Resource "${resource}" not found`,
    status: 404,
    code: 'RESOURCE_NOT_FOUND',
    info: { id, resource },
  },
});
const unknownError = (status: number): Reply => ({
  status,
  body: { error: 'Unknown error', status, code: 'UNKNOWN_ERROR', info: [] },
});
const badRequest = (error: string): Reply => ({
  status: 400,
  body: { error, status: 400, code: 'BAD_REQUEST', info: [] },
});

/** Where the served orders and events come from. */
interface DataSource {
  /** Changes whenever the served data may change (the generated data's clock, in seconds). */
  version(): number;
  /** Orders that may match `where` (a superset is fine: `where` is applied afterwards). */
  orderCandidates(where: readonly WhereClause[]): unknown[];
  orderById(id: number): unknown;
  events(): unknown[];
  eventById(id: number): unknown;
}

function datasetSource(dataset: { orders: unknown[]; events: unknown[] }): DataSource {
  const byId = (items: unknown[], id: number) =>
    items.find((item) => typeof item === 'object' && item !== null && (item as { id?: unknown }).id === id);
  return {
    version: () => 0,
    orderCandidates: () => dataset.orders,
    orderById: (id) => byId(dataset.orders, id),
    events: () => dataset.events,
    eventById: (id) => byId(dataset.events, id),
  };
}

function generatedSource(
  seed: number,
  scenarios: QticketsScenarios,
  now: () => Date,
  historyDays: number,
): DataSource {
  const days = new Map<
    number,
    { plans: PlannedOrder[]; settled: Array<Record<string, unknown> | undefined> }
  >();
  const events = new Map<number, Record<string, unknown>>();
  const nowUnix = () => Math.floor(now().getTime() / 1000);

  function day(dayNumber: number) {
    let entry = days.get(dayNumber);
    if (entry === undefined) {
      entry = { plans: planDay(seed, dateOfDayNumber(dayNumber), scenarios), settled: [] };
      if (days.size >= DAY_CACHE_SIZE) days.delete(days.keys().next().value as number);
      days.set(dayNumber, entry);
    }
    return entry;
  }

  /** The orders of a day as QTickets shows them now (settled ones rendered once). */
  function visibleOrders(dayNumber: number, asOf: number): Array<Record<string, unknown>> {
    const entry = day(dayNumber);
    const out: Array<Record<string, unknown>> = [];
    entry.plans.forEach((plan, i) => {
      if (plan.createdUnix > asOf) return;
      if (lastChangeOf(plan) <= asOf) {
        const rendered = entry.settled[i] ?? renderOrder(plan, asOf);
        entry.settled[i] = rendered;
        out.push(rendered);
      } else {
        out.push(renderOrder(plan, asOf));
      }
    });
    return out;
  }

  function eventObject(eventId: number, asOf: number): Record<string, unknown> | undefined {
    const slot = eventSlotOf(eventId);
    // Events exist from three weeks before their season; later seasons are not created yet.
    if (slot === undefined || slot.season > seasonOfDay(mskDayOfUnix(asOf) + 21)) return undefined;
    const plan = eventPlan(seed, slot.season, slot.slot);
    if (plan.createdUnix > asOf) return undefined;
    let rendered = events.get(eventId);
    if (rendered === undefined) {
      rendered = renderEvent(plan);
      events.set(eventId, rendered);
    }
    // A deletion in the sandbox's future is not visible yet.
    if (plan.deletedUnix !== null && plan.deletedUnix > asOf) {
      return { ...rendered, deleted_at: null, updated_at: mskIso(plan.createdUnix) };
    }
    return rendered;
  }

  return {
    version: nowUnix,
    orderCandidates(where) {
      const asOf = nowUnix();
      const today = mskDayOfUnix(asOf);
      let fromDay = today - historyDays;
      let toDay = today;
      const explicitFrom: number[] = [];
      for (const column of ['payed_at', 'created_at']) {
        const { min, max } = rangeOf(where, column);
        if (min !== undefined && Number.isFinite(min))
          explicitFrom.push(mskDayOfUnix(Math.floor(min / 1000)));
        if (max !== undefined && Number.isFinite(max))
          toDay = Math.min(toDay, mskDayOfUnix(Math.floor(max / 1000)));
      }
      const ids = rangeOf(where, 'id');
      if (ids.min !== undefined && Number.isFinite(ids.min)) explicitFrom.push(dayOfOrderId(ids.min));
      if (ids.max !== undefined && Number.isFinite(ids.max)) toDay = Math.min(toDay, dayOfOrderId(ids.max));
      if (explicitFrom.length > 0) fromDay = Math.max(...explicitFrom);
      fromDay = Math.max(fromDay, 0, toDay - MAX_GENERATED_DAYS);
      const out: unknown[] = [];
      for (let d = fromDay; d <= toDay; d++) out.push(...visibleOrders(d, asOf));
      return out;
    },
    orderById(id) {
      const d = dayOfOrderId(id);
      const asOf = nowUnix();
      if (d < 0 || d > mskDayOfUnix(asOf)) return undefined;
      return visibleOrders(d, asOf).find((o) => o.id === id);
    },
    events() {
      const asOf = nowUnix();
      const today = mskDayOfUnix(asOf);
      const out: unknown[] = [];
      // Events are created three weeks before their season starts.
      for (
        let season = seasonOfDay(Math.max(0, today - historyDays));
        season <= seasonOfDay(today + 21);
        season++
      ) {
        for (let slot = 0; slot < EVENTS_PER_SEASON; slot++) {
          const event = eventObject(eventIdOf(season, slot), asOf);
          if (event !== undefined) out.push(event);
        }
      }
      return out;
    },
    eventById: (id) => eventObject(id, nowUnix()),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * Starts a QTickets sandbox (reference §2.9):
 * - auth: `Authorization: Bearer <token>`, else 403 `{"error":"Forbidden","status":403}` (or 401
 *   `{"error":"Unauthorized","status":401}` when `authFailureStatus` is 401);
 * - `GET /orders` reads the JSON body of the GET: `where` (AND; `=`, `!=`, `<`, `>`, `<=`, `>=`,
 *   `in`, `not in`, `null`, `not null`; instants compared with their offsets), `orderBy`
 *   (default `{"id":"asc"}`), `page`, `perPage` (else `ordersPerPage`); answers
 *   `{data, paging:{perPage,currentPage,total}}`; without a body, the whole history, oldest first;
 * - `GET /orders/{id}`, `GET /events/{id}`: `{data}` or the real 404 `RESOURCE_NOT_FOUND` bodies;
 * - `GET /events`: the same list handling, `eventsPerPage` a page, deleted events included;
 * - `POST /orders`: 503 `UNKNOWN_ERROR`, as the real server answered a listing sent by POST.
 * Generated data (no `dataset`): see `qticketsData.ts` and `qticketsCatalog.ts`; timestamps are
 * written with `+03:00`, money as JSON numbers of rubles.
 * @throws the listen error (e.g. EADDRINUSE) when the port cannot be bound.
 */
export async function startQticketsSandbox(options: QticketsSandboxOptions = {}): Promise<QticketsSandbox> {
  const token = options.token ?? 'qtickets-sandbox-token';
  const host = options.host ?? '127.0.0.1';
  const ordersPerPage = options.ordersPerPage ?? 50;
  const eventsPerPage = options.eventsPerPage ?? 10;
  const source = options.dataset
    ? datasetSource(options.dataset)
    : generatedSource(
        options.seed ?? 1,
        options.scenarios ?? {},
        options.now ?? (() => new Date()),
        options.historyDays ?? 400,
      );
  const faults: QticketsFaults = {
    delayMs: 0,
    pathPrefix: null,
    serverErrorsNext: 0,
    serverErrorStatus: 503,
    rateLimitNext: 0,
    retryAfterSeconds: 1,
    outage: false,
    connectionResetsNext: 0,
    malformedNext: 0,
    malformedBody: '{"data":"malformed"}',
    authFailureStatus: options.authFailureStatus ?? 403,
    ignoreFilters: false,
    ignorePerPage: false,
  };
  const stats = { requests: [] as QticketsRecordedRequest[] };
  const timers = new Set<NodeJS.Timeout>();

  // Filtered, sorted lists of recent queries: a client walking 100 pages of one query filters once.
  const listCache = new Map<string, unknown[]>();

  function list(resource: 'orders' | 'events', query: ListQuery, defaultPerPage: number): Reply {
    const where = faults.ignoreFilters ? [] : query.where;
    const key = JSON.stringify([resource, where, query.orderBy, source.version()]);
    let sorted = listCache.get(key);
    if (sorted === undefined) {
      const items = resource === 'orders' ? source.orderCandidates(where) : source.events();
      const matching = where.length === 0 ? items : items.filter((item) => matchesWhere(item, where));
      sorted = sortItems(matching, query.orderBy);
      if (listCache.size >= LIST_CACHE_SIZE) listCache.delete(listCache.keys().next().value as string);
      listCache.set(key, sorted);
    }
    const perPage = faults.ignorePerPage ? defaultPerPage : (query.perPage ?? defaultPerPage);
    return { status: 200, body: paginate(sorted, query.page, perPage) };
  }

  function route(method: string, path: string, body: unknown): Reply {
    const one = /^\/(orders|events)\/(\d+)$/.exec(path);
    if (one) {
      if (method !== 'GET') return { status: 405, body: { error: 'Method not allowed', status: 405 } };
      const id = Number(one[2]);
      const item = one[1] === 'orders' ? source.orderById(id) : source.eventById(id);
      return item === undefined
        ? notFound(one[1] === 'orders' ? 'Order' : 'Event', id)
        : { status: 200, body: { data: item } };
    }
    if (path === '/orders' && method === 'POST') return unknownError(503);
    if ((path === '/orders' || path === '/events') && method === 'GET') {
      const query = parseListQuery(body);
      if ('error' in query) return badRequest(query.error);
      return path === '/orders' ? list('orders', query, ordersPerPage) : list('events', query, eventsPerPage);
    }
    return { status: 404, body: { error: 'Not found', status: 404 } };
  }

  function send(res: ServerResponse, record: QticketsRecordedRequest, reply: Reply): void {
    record.status = reply.status;
    const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', ...reply.headers });
    res.end(text);
  }

  function takeFault(res: ServerResponse, record: QticketsRecordedRequest): Reply | 'reset' | undefined {
    if (faults.pathPrefix !== null && !record.path.startsWith(faults.pathPrefix)) return undefined;
    if (faults.connectionResetsNext > 0) {
      faults.connectionResetsNext--;
      res.socket?.destroy();
      return 'reset';
    }
    if (faults.outage) return unknownError(faults.serverErrorStatus);
    if (faults.serverErrorsNext > 0) {
      faults.serverErrorsNext--;
      return unknownError(faults.serverErrorStatus);
    }
    if (faults.rateLimitNext > 0) {
      faults.rateLimitNext--;
      return {
        status: 429,
        body: { error: 'Too Many Requests', status: 429 },
        headers: { 'retry-after': String(faults.retryAfterSeconds) },
      };
    }
    if (faults.malformedNext > 0) {
      faults.malformedNext--;
      return { status: 200, body: faults.malformedBody };
    }
    return undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readBody(req);
    const pathname = new URL(req.url ?? '/', 'http://sandbox').pathname.replace(/\/+$/, '');
    const path = pathname.startsWith(QTICKETS_API_PREFIX)
      ? pathname.slice(QTICKETS_API_PREFIX.length) || '/'
      : pathname;
    let body: unknown = undefined;
    let malformedJson = false;
    if (text.trim() !== '') {
      try {
        body = JSON.parse(text) as unknown;
      } catch {
        body = text;
        malformedJson = true;
      }
    }
    const record: QticketsRecordedRequest = { method: req.method ?? 'GET', path, body, status: 0 };
    stats.requests.push(record);
    if (stats.requests.length > MAX_RECORDED_REQUESTS) stats.requests.shift();
    if (faults.delayMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          resolve();
        }, faults.delayMs);
        timers.add(timer);
      });
    }
    if (req.headers.authorization !== `Bearer ${token}`) {
      const status = faults.authFailureStatus;
      return send(res, record, {
        status,
        body: { error: status === 401 ? 'Unauthorized' : 'Forbidden', status },
      });
    }
    const fault = takeFault(res, record);
    if (fault === 'reset') return;
    if (fault !== undefined) return send(res, record, fault);
    if (!pathname.startsWith(QTICKETS_API_PREFIX))
      return send(res, record, { status: 404, body: { error: 'Not found', status: 404 } });
    if (malformedJson) return send(res, record, badRequest('The request body is not valid JSON'));
    send(res, record, route(record.method, path, body));
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
        res.end(
          JSON.stringify({ error: error instanceof Error ? error.message : String(error), status: 500 }),
        );
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${hostInUrl}:${port}${QTICKETS_API_PREFIX}`,
    token,
    faults,
    stats,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        if (!server.listening) return resolve();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
