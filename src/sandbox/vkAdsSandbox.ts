/**
 * A local VK Ads API v2 server for tests and `etl demo` (node:http only). It speaks the wire
 * format of reference §1.8: the OAuth2 token endpoint with the 5-live-token limit and refresh
 * rotation, bearer checks with VK's 401 bodies, collection endpoints with `fields`, `limit`,
 * `offset` and `_field__in` filters, daily statistics with VK's 400 errors, and the six
 * `X-RateLimit-*` headers on every response. Faults (429, 5xx, slow answers, expired tokens, …)
 * are switched on per request through the mutable {@link VkFaults} object.
 * Sources: https://ads.vk.com/doc/api/info/Authorization, https://ads.vk.com/doc/api/info/Statistics,
 * https://ads.vk.com/doc/api/info/Overview.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { addDays, businessDate, eachDay, isIsoDate } from '../time/dates.js';
import {
  addMetrics,
  baseMetricsJson,
  bannerDayMetrics,
  buildVkSandboxData,
  zeroMetrics,
  type DayMetrics,
  type SandboxBanner,
  type VkSandboxData,
  type VkSandboxScenarios,
} from './vkAdsData.js';
import { createDelays, listen } from './listen.js';

/**
 * Fault switches, read on every request; tests flip them between calls. "API calls" are all
 * routes except `oauth2/*` (token requests are never faulted, so a token can always be had).
 */
export interface VkFaults {
  /** The next N API calls answer 429 (with every `X-RateLimit-*-Remaining` at 0). @default 0 */
  status429Count: number;
  /** The next N API calls answer 503 `{"error":{"code":"ERR_INTERNAL",…}}`. @default 0 */
  status5xxCount: number;
  /** While set, every API call answers this status and JSON body (a permanent outage). @default null */
  failAll: { status: number; body: unknown } | null;
  /** Delay before every response (all routes), ms. @default 0 */
  delayMs: number;
  /**
   * Forced values of the `X-RateLimit-{RPS,Hourly,Daily}-Remaining` headers on API calls; an
   * absent key means real counting. The answer itself is still served. @default {}
   */
  rateLimitRemaining: { rps?: number; hourly?: number; daily?: number };
  /**
   * Banner ids that exist in listings but that statistics refuse with 400 `ERR_WRONG_BANNERS`
   * (a banner of another account, or one deleted between listing and statistics). @default []
   */
  statsUnavailableBannerIds: number[];
  /** Body of the 403 answer to a token request beyond the live-token limit. @default {"error":"token_limit_exceeded"} */
  tokenLimitBody: unknown;
  /** Makes every access token issued so far expired: its next use gets 401 `expired_token`. */
  expireTokensNow(): void;
  /** Deletes every token (like VK's clean-up of idle tokens): access gets 401 `invalid_token`, refresh is refused. */
  revokeTokensNow(): void;
  /** Restores every switch to its default (tokens are kept). */
  reset(): void;
}

/** One request the sandbox received. `query` joins repeated parameters with ','. The form body of token requests (it holds the secret) is not kept. */
export interface VkSandboxRequest {
  method: string;
  path: string;
  query: Record<string, string>;
}

/** Counters for assertions. */
export interface VkSandboxStats {
  /** Tokens minted with `client_credentials` (refreshes not counted). */
  tokensIssued: number;
  /** Successful `refresh_token` grants. */
  tokensRefreshed: number;
  /** Tokens that exist now, expired or not (VK counts them all against the limit). */
  readonly liveTokens: number;
  /** Every request, in arrival order. */
  requests: VkSandboxRequest[];
}

/** Options of {@link startVkAdsSandbox}. */
export interface VkAdsSandboxOptions {
  /** Seed of the generated account and statistics. @default 1 */
  seed?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. @default 0 */
  port?: number;
  /** @default 'sandbox-client-id' */
  clientId?: string;
  /** @default 'sandbox-client-secret' */
  clientSecret?: string;
  /** Lifetime of an access token, seconds (sent as the string `expires_in`). @default 86400 */
  tokenTtlSeconds?: number;
  /** Tokens that may exist at once; the next token request gets 403. @default 5 */
  maxLiveTokens?: number;
  /** MSK date `YYYY-MM-DD` "today": the 366-day statistics horizon and the last date with numbers. @default the real clock in Europe/Moscow */
  today?: () => string;
  /** Per-method limits over a calendar second, hour and day; exceeding one gives 429. @default {rps: 20, hourly: 5000, daily: 100000} */
  rateLimits?: { rps?: number; hourly?: number; daily?: number };
  /** Banners per ad group. @default 4 */
  bannersPerGroup?: number;
  /** Scenario switches of the generator; also mutable later through `sandbox.scenarios`. */
  scenarios?: VkSandboxScenarios;
}

/** A running sandbox. */
export interface VkAdsSandbox {
  /** Base URL to pass as `apiUrl`, e.g. `http://127.0.0.1:40123`. */
  url: string;
  clientId: string;
  clientSecret: string;
  faults: VkFaults;
  stats: VkSandboxStats;
  /** The generated account (ids, names, statuses), for assertions. */
  data: VkSandboxData;
  /** The generator's scenario switches, read per request. */
  scenarios: VkSandboxScenarios;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

interface TokenRecord {
  accessToken: string;
  refreshToken: string;
  expiresAtMs: number;
}

type Json = Record<string, unknown>;

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const JSON_TYPE = 'application/json; charset=UTF-8';

interface ResourceSpec {
  items: () => Json[];
  fields: ReadonlySet<string>;
  defaults: readonly string[];
  forbidden: readonly string[];
  filterable: ReadonlySet<string>;
}

function vkError(status: number, code: string, message: string): Reply {
  return { status, body: { error: { code, message } } };
}

function parseIntParam(value: string | undefined): number | undefined {
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

function pick(obj: Json, fields: readonly string[]): Json {
  const out: Json = {};
  // VK returns the keys in alphabetical order (see the recorded fixtures).
  for (const f of [...fields].sort()) out[f] = obj[f];
  return out;
}

function newToken(): string {
  return randomBytes(30).toString('base64url');
}

/**
 * Starts the sandbox on `host:port`.
 * @returns the running server's handle; call `close()` when done.
 * @throws the listen error (e.g. EADDRINUSE for a fixed port).
 */
export async function startVkAdsSandbox(options: VkAdsSandboxOptions = {}): Promise<VkAdsSandbox> {
  const clientId = options.clientId ?? 'sandbox-client-id';
  const clientSecret = options.clientSecret ?? 'sandbox-client-secret';
  const ttlMs = (options.tokenTtlSeconds ?? 86_400) * 1000;
  const maxLiveTokens = options.maxLiveTokens ?? 5;
  const today = options.today ?? (() => businessDate(new Date(), 'Europe/Moscow'));
  const limits = { rps: 20, hourly: 5000, daily: 100_000, ...options.rateLimits };
  const data = buildVkSandboxData({
    seed: options.seed ?? 1,
    bannersPerGroup: options.bannersPerGroup,
    scenarios: options.scenarios,
  });

  let tokens: TokenRecord[] = [];
  const stats: VkSandboxStats = {
    tokensIssued: 0,
    tokensRefreshed: 0,
    get liveTokens() {
      return tokens.length;
    },
    requests: [],
  };
  const defaults = () => ({
    status429Count: 0,
    status5xxCount: 0,
    failAll: null,
    delayMs: 0,
    rateLimitRemaining: {},
    statsUnavailableBannerIds: [] as number[],
    tokenLimitBody: { error: 'token_limit_exceeded' } as unknown,
  });
  const faults: VkFaults = {
    ...defaults(),
    expireTokensNow() {
      for (const t of tokens) t.expiresAtMs = 0;
    },
    revokeTokensNow() {
      tokens = [];
    },
    reset() {
      Object.assign(faults, defaults());
    },
  };

  // ---- rate limits: per method, calendar-aligned windows ----
  const counters = new Map<
    string,
    { sec: number; secN: number; hour: number; hourN: number; day: string; dayN: number }
  >();
  function countRequest(key: string, isApi: boolean): { headers: Record<string, string>; over: boolean } {
    const nowMs = Date.now();
    const sec = Math.floor(nowMs / 1000);
    const hour = Math.floor(nowMs / 3_600_000);
    const day = businessDate(new Date(nowMs), 'Europe/Moscow');
    const c = counters.get(key) ?? { sec, secN: 0, hour, hourN: 0, day, dayN: 0 };
    if (c.sec !== sec) Object.assign(c, { sec, secN: 0 });
    if (c.hour !== hour) Object.assign(c, { hour, hourN: 0 });
    if (c.day !== day) Object.assign(c, { day, dayN: 0 });
    c.secN++;
    c.hourN++;
    c.dayN++;
    counters.set(key, c);
    const forced = isApi ? faults.rateLimitRemaining : {};
    const rps = forced.rps ?? Math.max(0, limits.rps - c.secN);
    const hourly = forced.hourly ?? Math.max(0, limits.hourly - c.hourN);
    const daily = forced.daily ?? Math.max(0, limits.daily - c.dayN);
    return {
      over: c.secN > limits.rps || c.hourN > limits.hourly || c.dayN > limits.daily,
      headers: {
        'X-RateLimit-RPS-Limit': String(limits.rps),
        'X-RateLimit-Hourly-Limit': String(limits.hourly),
        'X-RateLimit-Daily-Limit': String(limits.daily),
        'X-RateLimit-RPS-Remaining': String(rps),
        'X-RateLimit-Hourly-Remaining': String(hourly),
        'X-RateLimit-Daily-Remaining': String(daily),
      },
    };
  }

  // ---- OAuth2 ----
  function tokenEndpoint(pathname: string, method: string, form: URLSearchParams): Reply {
    if (method !== 'POST') return { status: 405, body: { error: 'method_not_allowed' } };
    if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret) {
      return {
        status: 401,
        body: { error: 'invalid_client', error_description: 'Invalid client id or secret provided' },
      };
    }
    if (pathname === '/api/v2/oauth2/token/delete.json') {
      tokens = [];
      return { status: 200, body: { success: 1 } };
    }
    const grant = form.get('grant_type');
    if (grant === 'client_credentials') {
      if (tokens.length >= maxLiveTokens) return { status: 403, body: faults.tokenLimitBody };
      const t: TokenRecord = {
        accessToken: newToken(),
        refreshToken: newToken(),
        expiresAtMs: Date.now() + ttlMs,
      };
      tokens.push(t);
      stats.tokensIssued++;
      return { status: 200, body: tokenBody(t) };
    }
    if (grant === 'refresh_token') {
      const refresh = form.get('refresh_token');
      if (!refresh)
        return {
          status: 400,
          body: { error: 'invalid_request', error_description: 'refresh_token is required' },
        };
      const t = tokens.find((x) => x.refreshToken === refresh);
      if (!t)
        return { status: 401, body: { error: 'invalid_token', error_description: 'Unknown refresh token' } };
      // Same token instance, new access value; the old value dies at once.
      t.accessToken = newToken();
      t.expiresAtMs = Date.now() + ttlMs;
      stats.tokensRefreshed++;
      return { status: 200, body: tokenBody(t) };
    }
    return {
      status: 400,
      body: { error: 'unsupported_grant_type', error_description: `Unsupported grant type` },
    };
  }

  function tokenBody(t: TokenRecord): Json {
    return {
      access_token: t.accessToken,
      token_type: 'bearer',
      scope: 'read_ads,read_payments',
      expires_in: String(Math.round(ttlMs / 1000)),
      refresh_token: t.refreshToken,
    };
  }

  function bearerCheck(req: IncomingMessage): Reply | undefined {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const t = m ? tokens.find((x) => x.accessToken === m[1]) : undefined;
    const fail = (code: string, message: string): Reply => ({
      status: 401,
      body: { code, message },
      headers: { 'WWW-Authenticate': `Bearer realm="api", error="${code}", error_description="${message}"` },
    });
    if (!t) return fail('invalid_token', 'Unknown access token');
    if (Date.now() >= t.expiresAtMs) return fail('expired_token', 'Access token is expired');
    return undefined;
  }

  // ---- collections ----
  const resources: Record<string, ResourceSpec> = {
    ad_plans: {
      items: () => data.adPlans as unknown as Json[],
      fields: new Set([
        'id',
        'name',
        'status',
        'created',
        'updated',
        'objective',
        'budget_limit_day',
        'date_start',
        'event_limit',
        'uniq_shows_limit',
        'uniq_shows_period',
      ]),
      defaults: ['event_limit', 'id', 'name', 'uniq_shows_limit', 'uniq_shows_period'],
      forbidden: ['ad_groups'],
      filterable: new Set(['id', 'name', 'status', 'objective']),
    },
    ad_groups: {
      items: () => data.adGroups as unknown as Json[],
      fields: new Set([
        'id',
        'name',
        'status',
        'ad_plan_id',
        'package_id',
        'enable_utm',
        'utm',
        'created',
        'updated',
        'budget_limit_day',
      ]),
      defaults: ['id', 'name', 'package_id'],
      forbidden: ['banners'],
      filterable: new Set(['id', 'name', 'status', 'ad_plan_id', 'package_id']),
    },
    banners: {
      items: () => data.banners as unknown as Json[],
      fields: new Set([
        'id',
        'name',
        'status',
        'ad_group_id',
        'moderation_status',
        'ord_marker',
        'created',
        'updated',
        'urls',
      ]),
      defaults: ['ad_group_id', 'id', 'moderation_status', 'ord_marker'],
      forbidden: [],
      filterable: new Set(['id', 'name', 'status', 'ad_group_id', 'moderation_status']),
    },
  };

  function listEndpoint(spec: ResourceSpec, params: URLSearchParams): Reply {
    const limitRaw = params.get('limit');
    const limit = limitRaw === null ? 20 : parseIntParam(limitRaw);
    if (limit === undefined || limit < 1 || limit > 50) {
      return vkError(400, 'ERR_WRONG_PARAMETER', 'limit must be a whole number from 1 to 50');
    }
    const offsetRaw = params.get('offset');
    const offset = offsetRaw === null ? 0 : parseIntParam(offsetRaw);
    if (offset === undefined) return vkError(400, 'ERR_WRONG_PARAMETER', 'offset must be a whole number');
    const fieldsRaw = params.get('fields');
    const fields =
      fieldsRaw === null
        ? spec.defaults
        : fieldsRaw
            .split(',')
            .map((f) => f.trim())
            .filter((f) => f !== '');
    for (const f of fields) {
      if (spec.forbidden.includes(f))
        return vkError(400, 'ERR_WRONG_PARAMETER', `Field "${f}" is not allowed here`);
      if (!spec.fields.has(f)) return vkError(400, 'ERR_WRONG_PARAMETER', `Unknown field "${f}"`);
    }
    let items = spec.items();
    for (const [key, value] of params) {
      if (!key.startsWith('_')) continue;
      const m = /^_([a-z_]+?)(?:__(in|ne))?$/.exec(key);
      if (!m || !spec.filterable.has(m[1] as string)) {
        return vkError(400, 'ERR_WRONG_PARAMETER', `Unsupported filter "${key}"`);
      }
      const field = m[1] as string;
      const values = new Set(
        value
          .split(',')
          .map((v) => v.trim())
          .filter((v) => v !== ''),
      );
      const op = m[2] ?? 'eq';
      items = items.filter((it) => {
        const has = values.has(String(it[field]));
        return op === 'ne' ? !has : has;
      });
    }
    return {
      status: 200,
      body: {
        count: items.length,
        offset,
        limit,
        items: items.slice(offset, offset + limit).map((it) => pick(it, fields)),
      },
    };
  }

  // ---- statistics ----
  const statsLevels: Record<
    string,
    { code: string; bannersOf: (id: number) => SandboxBanner[] | undefined }
  > = {
    banners: {
      code: 'ERR_WRONG_BANNERS',
      bannersOf: (id) => {
        if (faults.statsUnavailableBannerIds.includes(id)) return undefined;
        const b = data.banners.find((x) => x.id === id && x.status !== 'deleted');
        return b ? [b] : undefined;
      },
    },
    ad_groups: {
      code: 'ERR_WRONG_ADGROUPS',
      bannersOf: (id) =>
        data.adGroups.some((g) => g.id === id && g.status !== 'deleted')
          ? data.banners.filter((b) => b.ad_group_id === id && b.status !== 'deleted')
          : undefined,
    },
    ad_plans: {
      code: 'ERR_WRONG_ADPLANS',
      bannersOf: (id) => {
        if (!data.adPlans.some((p) => p.id === id && p.status !== 'deleted')) return undefined;
        const groups = new Set(data.adGroups.filter((g) => g.ad_plan_id === id).map((g) => g.id));
        return data.banners.filter((b) => groups.has(b.ad_group_id) && b.status !== 'deleted');
      },
    },
  };
  const METRIC_SETS = new Set([
    'all',
    'base',
    'events',
    'video',
    'carousel',
    'ad_offers',
    'uniques',
    'uniques_video',
    'tps',
    'romi',
    'playable',
    'custom_event',
    'social_network',
    'moat',
  ]);

  function statsEndpoint(level: string, params: URLSearchParams): Reply {
    const spec = statsLevels[level];
    if (!spec) return vkError(404, 'ERR_WRONG_RESOURCE', 'Unknown resource');
    const idText = params.getAll('id').join(',');
    const dateFrom = params.get('date_from');
    const dateTo = params.get('date_to');
    if (idText.trim() === '' || dateFrom === null || dateTo === null) {
      return vkError(400, 'ERR_WRONG_PARAMETER', 'Parameters id, date_from and date_to are required');
    }
    const rawIds = idText
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (rawIds.some((s) => !/^\d+$/.test(s)))
      return vkError(400, 'ERR_WRONG_PARAMETER', 'id must be a list of numbers');
    const ids = [...new Set(rawIds.map(Number))];
    const metrics = (params.get('metrics') ?? 'base').split(',').map((s) => s.trim());
    if (metrics.some((m) => !METRIC_SETS.has(m)))
      return vkError(400, 'ERR_WRONG_PARAMETER', 'Unknown metrics set');
    if (!isIsoDate(dateFrom) || !isIsoDate(dateTo) || dateFrom > dateTo) {
      return vkError(400, 'ERR_WRONG_DATE', 'Wrong date_from or date_to');
    }
    if (ids.length > 200)
      return vkError(400, 'ERR_LIMIT_EXCEEDED', 'Too many objects requested (maximum 200)');
    const todayDate = today();
    if (dateFrom < addDays(todayDate, -365)) {
      return vkError(400, 'ERR_LIMIT_EXCEEDED', 'Statistics by day are available for the last 366 days only');
    }
    const resolved: Array<{ id: number; banners: SandboxBanner[] }> = [];
    for (const id of ids) {
      const banners = spec.bannersOf(id);
      if (!banners) return vkError(400, spec.code, `Requested ${level} do not exist or are not available`);
      resolved.push({ id, banners });
    }
    const dates = eachDay({ fromDate: dateFrom, toDate: dateTo });
    let grand = zeroMetrics();
    const items = resolved.map(({ id, banners }) => {
      let total = zeroMetrics();
      const rows = dates.map((date) => {
        let m: DayMetrics = zeroMetrics();
        if (date <= todayDate) for (const b of banners) m = addMetrics(m, bannerDayMetrics(data, b, date));
        total = addMetrics(total, m);
        return { date, base: baseMetricsJson(m) };
      });
      grand = addMetrics(grand, total);
      return { id, rows, total: { base: baseMetricsJson(total) } };
    });
    return { status: 200, body: { items, total: { base: baseMetricsJson(grand) } } };
  }

  // ---- dispatch ----
  function route(req: IncomingMessage, url: URL, body: string): Reply {
    const method = req.method ?? 'GET';
    const pathname = url.pathname;
    if (pathname.startsWith('/api/v2/oauth2/')) {
      if (pathname !== '/api/v2/oauth2/token.json' && pathname !== '/api/v2/oauth2/token/delete.json') {
        return vkError(404, 'ERR_WRONG_RESOURCE', 'Unknown resource');
      }
      return tokenEndpoint(pathname, method, new URLSearchParams(body));
    }
    if (faults.failAll) return { status: faults.failAll.status, body: faults.failAll.body };
    if (faults.status429Count > 0) {
      faults.status429Count--;
      return vkError(429, 'ERR_TOO_MANY_REQUESTS', 'Too many requests');
    }
    if (faults.status5xxCount > 0) {
      faults.status5xxCount--;
      return vkError(503, 'ERR_INTERNAL', 'Internal error');
    }
    const denied = bearerCheck(req);
    if (denied) return denied;
    const list = /^\/api\/v2\/(ad_plans|ad_groups|banners)\.json$/.exec(pathname);
    const statsPath = /^\/api\/v2\/statistics\/([a-z_]+)\/day\.json$/.exec(pathname);
    if ((list || statsPath) && method !== 'GET')
      return vkError(405, 'ERR_WRONG_METHOD', 'Method not allowed');
    if (list) return listEndpoint(resources[list[1] as string] as ResourceSpec, url.searchParams);
    if (statsPath) return statsEndpoint(statsPath[1] as string, url.searchParams);
    return vkError(404, 'ERR_WRONG_RESOURCE', 'Unknown resource');
  }

  const delays = createDelays();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox.local');
    const query: Record<string, string> = {};
    for (const key of new Set(url.searchParams.keys())) query[key] = url.searchParams.getAll(key).join(',');
    const method = req.method ?? 'GET';
    stats.requests.push({ method, path: url.pathname, query });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const isApi = !url.pathname.startsWith('/api/v2/oauth2/');
    const rate = countRequest(`${method} ${url.pathname}`, isApi);
    if (faults.delayMs > 0) await delays.wait(faults.delayMs);
    let reply: Reply;
    if (isApi && rate.over && !faults.failAll) {
      reply = vkError(429, 'ERR_TOO_MANY_REQUESTS', 'Too many requests');
    } else {
      reply = route(req, url, Buffer.concat(chunks).toString('utf8'));
    }
    if (reply.status === 429) {
      for (const k of Object.keys(rate.headers)) if (k.endsWith('-Remaining')) rate.headers[k] = '0';
    }
    if (res.destroyed) return;
    res.writeHead(reply.status, { 'Content-Type': JSON_TYPE, ...rate.headers, ...reply.headers });
    res.end(JSON.stringify(reply.body));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent || res.destroyed) return;
      res.writeHead(500, { 'Content-Type': JSON_TYPE });
      res.end(JSON.stringify({ error: { code: 'ERR_INTERNAL', message: String(error) } }));
    });
  });
  const baseUrl = await listen(server, options);

  return {
    url: baseUrl,
    clientId,
    clientSecret,
    faults,
    stats,
    data,
    scenarios: data.scenarios,
    close: async () => {
      delays.cancelAll();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
