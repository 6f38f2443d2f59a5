/**
 * The VK Ads client against the real sandbox server over HTTP (port 0): tokens shared through the
 * store file, retries, rate limits, batching, UTM, exact money and readable, secret-free errors.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Decimal } from 'decimal.js';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UpstreamAuthError, UpstreamHttpError } from '../src/errors.js';
import type { RetryPolicy } from '../src/http/request.js';
import {
  startVkAdsSandbox,
  type VkAdsSandbox,
  type VkAdsSandboxOptions,
} from '../src/sandbox/vkAdsSandbox.js';
import { bannerDayMetrics } from '../src/sandbox/vkAdsData.js';
import {
  createVkAdsClient,
  sumRub,
  toRubString,
  type VkAdsClientOptions,
} from '../src/sources/vkAds/index.js';
import type { VkBannerDayStat } from '../src/sources/types.js';
import { addDays, eachDay, type DateWindow } from '../src/time/dates.js';

const TODAY = '2026-11-29';
const RETRY: RetryPolicy = { retries: 2, minDelayMs: 10, maxDelayMs: 40, attemptTimeoutMs: 5_000 };
const WINDOW: DateWindow = { fromDate: '2026-11-16', toDate: '2026-11-29' };

let sb: VkAdsSandbox;
let dir: string;
let logLines: string[];

async function startSandbox(extra: VkAdsSandboxOptions = {}): Promise<void> {
  await sb?.close();
  sb = await startVkAdsSandbox({ seed: 42, today: () => TODAY, rateLimits: { rps: 1000 }, ...extra });
}

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'vk-client-test-'));
  logLines = [];
  await startSandbox();
});
afterEach(async () => {
  await sb.close();
});

function storePath(name = 'vk_token.json'): string {
  return path.join(dir, 'state', name);
}

function client(extra: Partial<VkAdsClientOptions> = {}) {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString('utf8'));
      done();
    },
  });
  return createVkAdsClient({
    apiUrl: sb.url,
    clientId: sb.clientId,
    clientSecret: sb.clientSecret,
    tokenStorePath: storePath(),
    retry: RETRY,
    logger: pino({ level: 'debug' }, sink),
    ...extra,
  });
}

async function collect(source: ReturnType<typeof client>, window: DateWindow = WINDOW) {
  const batches: Array<{ rows: VkBannerDayStat[]; recordsRead: number }> = [];
  for await (const batch of source.dailyBannerStats(window)) batches.push(batch);
  return {
    batches,
    rows: batches.flatMap((b) => b.rows),
    recordsRead: batches.reduce((n, b) => n + b.recordsRead, 0),
  };
}

function storedTokens(file = storePath()): string[] {
  const s = JSON.parse(readFileSync(file, 'utf8')) as { accessToken: string; refreshToken: string };
  return [s.accessToken, s.refreshToken];
}

const apiGets = (p: string) => sb.stats.requests.filter((r) => r.method === 'GET' && r.path === p);
const statsRequests = () => apiGets('/api/v2/statistics/banners/day.json');

/** Banners the client should send to statistics: not deleted, in a group and plan that are not deleted. */
function expectedBannerIds(): number[] {
  const plans = new Set(sb.data.adPlans.filter((p) => p.status !== 'deleted').map((p) => p.id));
  const groups = new Set(
    sb.data.adGroups.filter((g) => g.status !== 'deleted' && plans.has(g.ad_plan_id)).map((g) => g.id),
  );
  return sb.data.banners.filter((b) => b.status !== 'deleted' && groups.has(b.ad_group_id)).map((b) => b.id);
}

describe('daily banner statistics', () => {
  it('returns joined rows with exact ruble spend that adds up to the upstream totals', async () => {
    const { rows, recordsRead } = await collect(client());
    const ids = expectedBannerIds();
    // VK sends a row for every banner and day; all-zero days are not kept as rows.
    expect(recordsRead).toBe(ids.length * 14);
    expect(rows.length).toBeGreaterThan(ids.length * 5);
    expect(rows.length).toBeLessThan(recordsRead);

    let expectedKop = 0;
    for (const b of sb.data.banners.filter((x) => ids.includes(x.id))) {
      for (const d of eachDay(WINDOW)) expectedKop += bannerDayMetrics(sb.data, b, d).spentKop;
    }
    const total = rows.reduce((sum, r) => sum.plus(r.spendRub), new Decimal(0));
    expect(total.toFixed(2)).toBe(new Decimal(expectedKop).div(100).toFixed(2));
    expect(sumRub(rows.map((r) => r.spendRub))).toBe(total.toFixed(2));

    for (const r of rows) {
      expect(r.spendRub).toMatch(/^\d+\.\d{2}$/);
      expect(Number.isInteger(r.impressions) && Number.isInteger(r.clicks)).toBe(true);
      expect(r.statDate >= WINDOW.fromDate && r.statDate <= WINDOW.toDate).toBe(true);
      expect(r.impressions + r.clicks > 0 || r.spendRub !== '0.00').toBe(true);
    }
    const row = rows.find((r) => r.adGroupName === 'Москва 25-45')!;
    expect(row).toMatchObject({ adPlanName: 'Щелкунчик Москва', adGroupId: expect.any(Number) as number });
    const banner = sb.data.banners.find((b) => b.id === row.bannerId)!;
    expect(row.bannerName).toBe(banner.name);
    const m = bannerDayMetrics(sb.data, banner, row.statDate);
    expect([row.impressions, row.clicks]).toEqual([m.shows, m.clicks]);
  });

  it('never sends deleted objects to statistics and never more than 200 ids per request', async () => {
    await startSandbox({ bannersPerGroup: 20 });
    const { batches, rows } = await collect(client());
    const requests = statsRequests();
    const sent = requests.flatMap((r) => r.query.id!.split(',').map(Number));
    expect(requests.length).toBeGreaterThanOrEqual(2);
    for (const r of requests) {
      expect(r.query.id!.split(',').length).toBeLessThanOrEqual(200);
      expect(r.query).toMatchObject({ date_from: WINDOW.fromDate, date_to: WINDOW.toDate, metrics: 'base' });
    }
    expect(sent.sort((a, b) => a - b)).toEqual(expectedBannerIds().sort((a, b) => a - b));
    // One yielded batch per statistics request: memory is bounded by the batch.
    expect(batches).toHaveLength(requests.length);
    const deleted = new Set(sb.data.banners.filter((b) => b.status === 'deleted').map((b) => b.id));
    expect(rows.some((r) => deleted.has(r.bannerId))).toBe(false);
    // Listing pages are at most 50 items, with explicit fields and the status filter.
    for (const r of apiGets('/api/v2/banners.json')) {
      expect(r.query).toMatchObject({
        limit: '50',
        fields: 'id,name,status,ad_group_id,urls',
        _status__in: 'active,blocked',
      });
    }
    expect(apiGets('/api/v2/banners.json').length).toBeGreaterThan(1);
  });

  it('splits a window longer than one request may take', async () => {
    const window = { fromDate: '2026-10-01', toDate: '2026-11-04' };
    const { rows } = await collect(client({ statsMaxDaysPerRequest: 10 }), window);
    expect(statsRequests().map((r) => `${r.query.date_from}..${r.query.date_to}`)).toEqual([
      '2026-10-01..2026-10-10',
      '2026-10-11..2026-10-20',
      '2026-10-21..2026-10-30',
      '2026-10-31..2026-11-04',
    ]);
    expect(new Set(rows.map((r) => r.statDate)).size).toBe(35);
  });

  it('drops a banner that statistics refuse (ERR_WRONG_BANNERS) and keeps the rest of the batch', async () => {
    const refused = sb.data.anchorBannerIds[0]!;
    sb.faults.statsUnavailableBannerIds = [refused];
    const { rows, recordsRead } = await collect(client());
    const ids = expectedBannerIds();
    expect(recordsRead).toBe((ids.length - 1) * 14);
    expect(rows.some((r) => r.bannerId === refused)).toBe(false);
    // The batch is halved until the bad id is alone: a few requests, not one per banner.
    expect(statsRequests().length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(ids.length)) + 1);
    expect(logLines.some((l) => l.includes('ERR_WRONG_BANNERS') && l.includes(String(refused)))).toBe(true);
  });

  it('explains a window beyond the 366-day horizon instead of loading part of it', async () => {
    const err = await collect(client(), { fromDate: addDays(TODAY, -400), toDate: TODAY }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UpstreamHttpError);
    expect((err as UpstreamHttpError).upstreamCode).toBe('ERR_LIMIT_EXCEEDED');
    expect((err as Error).message).toMatch(/366 days/);
  });
});

describe('UTM tags', () => {
  const rowOf = (rows: VkBannerDayStat[], groupName: string, bannerIndex = 0) => {
    const ids = (g: string) => {
      const group = sb.data.adGroups.find((x) => x.name === g)!;
      return sb.data.banners.filter((b) => b.ad_group_id === group.id);
    };
    const banner = ids(groupName)[bannerIndex]!;
    const row = rows.find((r) => r.bannerId === banner.id);
    expect(row, `${groupName} #${bannerIndex}`).toBeDefined();
    return row!;
  };

  it('expands macros and lets the group template win over the link, tag by tag', async () => {
    const { rows } = await collect(client());

    // Group: utm_source=vk_ads&utm_medium=cpc&utm_campaign={{campaign_id}}&utm_content={{banner_id}}&utm_term=msk;
    // link: ?utm_source=vk&utm_campaign=autumn_msk. {{campaign_id}} is the ad GROUP id.
    const msk = rowOf(rows, 'Москва 25-45');
    expect(msk.landingUrl).toBe(
      'https://irs-show.ru/moscow/shchelkunchik?utm_source=vk&utm_campaign=autumn_msk',
    );
    expect(msk).toMatchObject({
      utmSource: 'vk_ads',
      utmMedium: 'cpc',
      utmCampaign: String(msk.adGroupId),
      utmContent: String(msk.bannerId),
      utmTerm: 'msk',
    });

    // enable_utm false, utm null: only the link's own tags.
    expect(rowOf(rows, 'Москва родители ретаргет')).toMatchObject({
      utmSource: 'vk',
      utmMedium: 'retarget',
      utmCampaign: 'shchelkunchik_moscow',
      utmContent: '',
      utmTerm: '',
    });

    // {{ad_plan_id}}_{{campaign_id}}; the link adds utm_term the group does not set.
    const spb = rowOf(rows, 'Санкт-Петербург мамы 25-40');
    expect(spb).toMatchObject({
      utmCampaign: `${spb.adPlanId}_${spb.adGroupId}`,
      utmTerm: 'saint_petersburg',
    });

    // {{campaign_name}} is the group name; {{geo}} is unknown here, so the link's utm_term shows through.
    expect(rowOf(rows, 'Регионы')).toMatchObject({ utmCampaign: 'Регионы', utmTerm: 'nizhny_novgorod' });

    // enable_utm true without a template: VK's automatic template.
    const auto = rowOf(rows, 'Томск ретаргет');
    expect(auto).toMatchObject({
      utmSource: 'vk_ads',
      utmMedium: 'cpc',
      utmCampaign: String(auto.adGroupId),
      utmContent: String(auto.bannerId),
      utmTerm: '',
    });
  });

  it('uses an empty landing URL for banners without links', async () => {
    const { rows } = await collect(client());
    const noLink = sb.data.banners.filter((b) => b.urls.primary === undefined).map((b) => b.id);
    const found = rows.filter((r) => noLink.includes(r.bannerId));
    expect(found.length).toBeGreaterThan(0);
    for (const r of found) expect(r.landingUrl).toBe('');
  });
});

describe('tokens', () => {
  it('two consecutive runs share the stored token: exactly one token is minted', async () => {
    await client().listAdPlans();
    await client().listAdPlans();
    expect(sb.stats.tokensIssued).toBe(1);
    expect(sb.stats.tokensRefreshed).toBe(0);
    expect(statSync(storePath()).mode & 0o777).toBe(0o600);
  });

  it('two clients starting at once still mint one token (the store is locked)', async () => {
    await Promise.all([client().listAdPlans(), client().listAdPlans(), client().listAdGroups()]);
    expect(sb.stats.tokensIssued).toBe(1);
  });

  it('two processes starting at once still mint one token', async () => {
    const script = path.join(import.meta.dirname, 'helpers', 'vkAdsListPlans.ts');
    const goFile = path.join(dir, 'go');
    const args = ['--import', 'tsx', script, sb.url, sb.clientId, sb.clientSecret, storePath(), goFile];
    // A slow token endpoint widens the window in which both processes want a token.
    sb.faults.delayMs = 150;
    const children = [0, 1].map(() => {
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      const ready = new Promise<void>((resolve) =>
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString('utf8');
          if (out.includes('ready')) resolve();
        }),
      );
      const done = new Promise<string>((resolve, reject) =>
        child.on('exit', (code) =>
          code === 0 ? resolve(out) : reject(new Error(`child exited with ${code}`)),
        ),
      );
      return { ready, done };
    });
    await Promise.all(children.map((c) => c.ready));
    writeFileSync(goFile, '');
    const outs = await Promise.all(children.map((c) => c.done));
    const plans = String(sb.data.adPlans.filter((p) => p.status !== 'deleted').length);
    for (const o of outs) expect(o.trim().split('\n')).toEqual(['ready', plans]);
    expect(sb.stats.tokensIssued).toBe(1);
  });

  it('the 6th token is refused with 403 and a message that says what to do', async () => {
    for (let i = 0; i < 5; i++) await client({ tokenStorePath: storePath(`t${i}.json`) }).listAdPlans();
    expect(sb.stats.liveTokens).toBe(5);
    const sixth = client({ tokenStorePath: storePath('t5.json') });
    const err = await sixth.listAdPlans().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamAuthError);
    expect((err as UpstreamAuthError).status).toBe(403);
    expect((err as Error).message).toMatch(/maximum of 5 tokens/);
    expect((err as Error).message).toMatch(/token\/delete\.json/);
    expect((err as Error).message).not.toContain(sb.clientSecret);
    expect(sb.stats.tokensIssued).toBe(5);

    await sixth.deleteAllTokens();
    expect(sb.stats.liveTokens).toBe(0);
    expect((await sixth.listAdPlans()).length).toBeGreaterThan(0);
    expect(sb.stats.tokensIssued).toBe(6);
  });

  it('an expired token is refreshed once and the call succeeds', async () => {
    const c = client();
    await c.listAdPlans();
    const [oldAccess, oldRefresh] = storedTokens();
    sb.faults.expireTokensNow();
    expect((await c.listAdPlans()).length).toBeGreaterThan(0);
    expect(sb.stats).toMatchObject({ tokensIssued: 1, tokensRefreshed: 1 });
    expect(apiGets('/api/v2/ad_plans.json')).toHaveLength(3);
    const [newAccess, newRefresh] = storedTokens();
    expect(newAccess).not.toBe(oldAccess);
    expect(newRefresh).toBe(oldRefresh);
    // The next run reads the refreshed pair from the store.
    await client().listAdPlans();
    expect(sb.stats).toMatchObject({ tokensIssued: 1, tokensRefreshed: 1 });
  });

  it('refreshes shortly before expiry without waiting for a 401', async () => {
    await client().listAdPlans();
    const tomorrow = Date.now() + 86_400_000 - 60_000;
    await client({ now: () => tomorrow }).listAdPlans();
    expect(sb.stats).toMatchObject({ tokensIssued: 1, tokensRefreshed: 1 });
    expect(apiGets('/api/v2/ad_plans.json')).toHaveLength(2);
  });

  it('after another process refreshed, a 401 makes the client pick up the stored token instead of refreshing again', async () => {
    const a = client();
    await a.listAdPlans();
    await client({ now: () => Date.now() + 86_400_000 }).listAdPlans(); // "process B" refreshes
    await a.listAdPlans(); // A's in-memory token died with B's refresh
    expect(sb.stats).toMatchObject({ tokensIssued: 1, tokensRefreshed: 1 });
  });

  it('mints anew only when the refresh token is refused too', async () => {
    const c = client();
    await c.listAdPlans();
    sb.faults.revokeTokensNow();
    expect((await c.listAdPlans()).length).toBeGreaterThan(0);
    expect(sb.stats).toMatchObject({ tokensIssued: 2, tokensRefreshed: 0, liveTokens: 1 });
  });

  it('a refused client secret is an auth error naming the setting, not the secret', async () => {
    const err = await client({ clientSecret: 'wrong-secret-value' })
      .listAdPlans()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamAuthError);
    expect((err as Error).message).toMatch(/VK_ADS_CLIENT_SECRET/);
    expect((err as Error).message).not.toContain('wrong-secret-value');
  });

  it('a revoked token (401 revoked_token) is an auth error, not retried', async () => {
    const c = client();
    await c.listAdPlans();
    sb.faults.failAll = {
      status: 401,
      body: { code: 'revoked_token', message: 'Access token has been revoked' },
    };
    const err = await c.listAdPlans().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamAuthError);
    expect((err as UpstreamAuthError).upstreamCode).toBe('revoked_token');
    expect(apiGets('/api/v2/ad_plans.json')).toHaveLength(2);
    expect(sb.stats.tokensRefreshed).toBe(0);
  });
});

describe('retries, rate limits and errors', () => {
  it('a 429 and a 503 before success still return the data', async () => {
    sb.faults.status429Count = 1;
    sb.faults.status5xxCount = 1;
    const plans = await client().listAdPlans();
    expect(plans.map((p) => p.id)).toEqual(
      sb.data.adPlans.filter((p) => p.status !== 'deleted').map((p) => p.id),
    );
    expect(apiGets('/api/v2/ad_plans.json')).toHaveLength(3);
  });

  it('a permanent 5xx ends in a readable UpstreamHttpError without secrets or tokens', async () => {
    const c = client();
    await c.listAdPlans();
    const [access, refresh] = storedTokens();
    // A misbehaving backend even echoes the token; it must not reach the message.
    sb.faults.failAll = {
      status: 503,
      body: { error: { code: 'ERR_INTERNAL', message: `backend saw Bearer ${access}` } },
    };
    const err = await collect(c).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamHttpError);
    expect(err).not.toBeInstanceOf(UpstreamAuthError);
    const message = (err as Error).message;
    expect((err as UpstreamHttpError).status).toBe(503);
    expect(message).toMatch(/HTTP 503/);
    expect(message).toMatch(/\/api\/v2\/ad_plans\.json/);
    expect(message).toMatch(/run the job again later/);
    for (const secret of [sb.clientSecret, access!, refresh!]) {
      expect(message).not.toContain(secret);
      for (const line of logLines) expect(line).not.toContain(secret);
    }
    expect(apiGets('/api/v2/ad_plans.json')).toHaveLength(1 + RETRY.retries + 1);
  });

  it('a 400 names the VK error code and a readable reason', async () => {
    sb.faults.failAll = {
      status: 400,
      body: { error: { code: 'ERR_WRONG_PARAMETER', message: 'Bad fields' } },
    };
    const err = await client()
      .listBanners()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamHttpError);
    expect((err as UpstreamHttpError).upstreamCode).toBe('ERR_WRONG_PARAMETER');
    expect((err as Error).message).toBe(
      'vk_ads: GET /api/v2/banners.json failed (HTTP 400 ERR_WRONG_PARAMETER: Bad fields). This is a bug in the request; report it with this message.',
    );
  });

  it('waits 1 s before the next call when the per-second quota is used up', async () => {
    sb.faults.rateLimitRemaining = { rps: 0 };
    const sleeps: number[] = [];
    const fixedNow = Date.now();
    const c = client({ now: () => fixedNow, sleep: (ms) => Promise.resolve(void sleeps.push(ms)) });
    await c.listAdPlans();
    await c.listAdGroups();
    expect(sleeps).toEqual([1000]);
  });

  it('stops with a clear error when the hourly quota is used up, without sleeping for an hour', async () => {
    sb.faults.rateLimitRemaining = { hourly: 0 };
    const sleeps: number[] = [];
    const c = client({ sleep: (ms) => Promise.resolve(void sleeps.push(ms)) });
    const err = await collect(c).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamHttpError);
    expect((err as UpstreamHttpError).upstreamCode).toBe('HOURLY_QUOTA_EXHAUSTED');
    expect((err as Error).message).toMatch(/hourly VK Ads API quota is exhausted/);
    expect(apiGets('/api/v2/ad_plans.json')).toHaveLength(1);
    expect(apiGets('/api/v2/ad_groups.json')).toHaveLength(0);
    expect(sleeps).toEqual([]);
  });
});

describe('money parsing', () => {
  it('is exact: "0.10" + "0.20" is "0.30", and VK short forms become 2-digit strings', () => {
    expect(sumRub(['0.10', '0.20'])).toBe('0.30');
    expect(sumRub(Array.from({ length: 10 }, () => toRubString('0.1')!))).toBe('1.00');
    expect(toRubString('15.2')).toBe('15.20');
    expect(toRubString('0')).toBe('0.00');
    expect(toRubString(2841.57)).toBe('2841.57');
    expect(toRubString('2841.575')).toBe('2841.58');
    expect(toRubString('12345678901234.99')).toBe('12345678901234.99');
    expect(toRubString('1e3')).toBeUndefined();
    expect(toRubString('abc')).toBeUndefined();
  });
});
