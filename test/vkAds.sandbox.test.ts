/**
 * The VK Ads sandbox speaks the wire format of reference §1.8: checked over real HTTP with plain
 * requests, independent of the production client.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startVkAdsSandbox, type VkAdsSandbox } from '../src/sandbox/vkAdsSandbox.js';
import {
  ANCHOR_CITIES,
  bannerDayMetrics,
  buildVkSandboxData,
  kopToVkDecimal,
} from '../src/sandbox/vkAdsData.js';
import { createCityResolver, type CityAlias } from '../src/sources/cityResolver.js';
import { addDays } from '../src/time/dates.js';

const TODAY = '2026-11-29';

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function call(url: string, init?: RequestInit): Promise<Answer> {
  const res = await fetch(url, init);
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

function tokenRequest(sb: VkAdsSandbox, form: Record<string, string>): Promise<Answer> {
  return call(`${sb.url}/api/v2/oauth2/token.json`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
}

function mint(sb: VkAdsSandbox): Promise<Answer> {
  return tokenRequest(sb, {
    grant_type: 'client_credentials',
    client_id: sb.clientId,
    client_secret: sb.clientSecret,
  });
}

async function accessToken(sb: VkAdsSandbox): Promise<string> {
  return (await mint(sb)).body.access_token as string;
}

function get(sb: VkAdsSandbox, token: string, pathAndQuery: string): Promise<Answer> {
  return call(`${sb.url}${pathAndQuery}`, { headers: { authorization: `Bearer ${token}` } });
}

let sb: VkAdsSandbox;
beforeEach(async () => {
  sb = await startVkAdsSandbox({ seed: 7, today: () => TODAY, rateLimits: { rps: 1000 } });
});
afterEach(async () => {
  await sb.close();
});

describe('oauth2', () => {
  it('issues a bearer pair with expires_in as the string "86400"', async () => {
    const a = await mint(sb);
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ token_type: 'bearer', expires_in: '86400' });
    expect(typeof a.body.access_token).toBe('string');
    expect(typeof a.body.refresh_token).toBe('string');
    expect(sb.stats).toMatchObject({ tokensIssued: 1, liveTokens: 1 });
  });

  it('refuses a wrong secret with 401 invalid_client', async () => {
    const a = await tokenRequest(sb, {
      grant_type: 'client_credentials',
      client_id: sb.clientId,
      client_secret: 'nope',
    });
    expect(a.status).toBe(401);
    expect(a.body.error).toBe('invalid_client');
  });

  it('refuses the 6th token with 403 token_limit_exceeded, until the tokens are deleted', async () => {
    for (let i = 0; i < 5; i++) expect((await mint(sb)).status).toBe(200);
    const sixth = await mint(sb);
    expect(sixth.status).toBe(403);
    expect(sixth.body).toEqual({ error: 'token_limit_exceeded' });
    expect(sb.stats).toMatchObject({ tokensIssued: 5, liveTokens: 5 });

    const del = await call(`${sb.url}/api/v2/oauth2/token/delete.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: sb.clientId, client_secret: sb.clientSecret }).toString(),
    });
    expect(del.status).toBe(200);
    expect(sb.stats.liveTokens).toBe(0);
    expect((await mint(sb)).status).toBe(200);
  });

  it('refresh rotates the access token, kills the old one at once and keeps the refresh token', async () => {
    const first = (await mint(sb)).body;
    const refreshed = await tokenRequest(sb, {
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token as string,
      client_id: sb.clientId,
      client_secret: sb.clientSecret,
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.expires_in).toBe('86400');
    expect(refreshed.body.refresh_token).toBe(first.refresh_token);
    expect(refreshed.body.access_token).not.toBe(first.access_token);
    expect(sb.stats).toMatchObject({ tokensIssued: 1, tokensRefreshed: 1, liveTokens: 1 });

    const old = await get(sb, first.access_token as string, '/api/v2/ad_plans.json');
    expect(old.status).toBe(401);
    expect(old.body).toEqual({ code: 'invalid_token', message: 'Unknown access token' });
    expect(old.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect((await get(sb, refreshed.body.access_token as string, '/api/v2/ad_plans.json')).status).toBe(200);
  });

  it('answers 401 expired_token with WWW-Authenticate after expireTokensNow()', async () => {
    const token = await accessToken(sb);
    sb.faults.expireTokensNow();
    const a = await get(sb, token, '/api/v2/banners.json');
    expect(a.status).toBe(401);
    expect(a.body).toEqual({ code: 'expired_token', message: 'Access token is expired' });
    expect(a.headers.get('www-authenticate')).toBe(
      'Bearer realm="api", error="expired_token", error_description="Access token is expired"',
    );
  });

  it('refuses an unknown refresh token with 401 invalid_token', async () => {
    const a = await tokenRequest(sb, {
      grant_type: 'refresh_token',
      refresh_token: 'not-a-token',
      client_id: sb.clientId,
      client_secret: sb.clientSecret,
    });
    expect(a.status).toBe(401);
    expect(a.body.error).toBe('invalid_token');
  });
});

describe('collections', () => {
  it('returns only the default fields when fields is absent, keys in alphabetical order', async () => {
    const token = await accessToken(sb);
    const plans = await get(sb, token, '/api/v2/ad_plans.json');
    expect(plans.body.limit).toBe(20);
    const items = plans.body.items as Array<Record<string, unknown>>;
    expect(Object.keys(items[0] ?? {})).toEqual([
      'event_limit',
      'id',
      'name',
      'uniq_shows_limit',
      'uniq_shows_period',
    ]);
    const banners = await get(sb, token, '/api/v2/banners.json');
    const b = (banners.body.items as Array<Record<string, unknown>>)[0] ?? {};
    expect(Object.keys(b)).toEqual(['ad_group_id', 'id', 'moderation_status', 'ord_marker']);
  });

  it('pages with limit (max 50) and offset, count being the total after filters', async () => {
    const token = await accessToken(sb);
    const all = sb.data.banners.filter((b) => b.status !== 'deleted');
    const seen: number[] = [];
    for (let offset = 0; offset < all.length; offset += 50) {
      const page = await get(
        sb,
        token,
        `/api/v2/banners.json?fields=id,status&limit=50&offset=${offset}&_status__in=active,blocked`,
      );
      expect(page.status).toBe(200);
      expect(page.body).toMatchObject({ count: all.length, offset, limit: 50 });
      seen.push(...(page.body.items as Array<{ id: number; status: string }>).map((i) => i.id));
    }
    expect(seen).toEqual(all.map((b) => b.id));
    expect((await get(sb, token, '/api/v2/banners.json?limit=51')).status).toBe(400);
  });

  it('filters with _id__in, _status__in and _ad_group_id__in and returns requested fields only', async () => {
    const token = await accessToken(sb);
    const group = sb.data.adGroups[0]!;
    const page = await get(
      sb,
      token,
      `/api/v2/banners.json?fields=id,ad_group_id,urls&_ad_group_id__in=${group.id}&_status__in=active`,
    );
    const items = page.body.items as Array<Record<string, unknown>>;
    expect(items.length).toBeGreaterThan(0);
    for (const it of items) {
      expect(Object.keys(it)).toEqual(['ad_group_id', 'id', 'urls']);
      expect(it.ad_group_id).toBe(group.id);
    }
    const plan = sb.data.adPlans[1]!;
    const byId = await get(sb, token, `/api/v2/ad_plans.json?fields=id,name,status&_id__in=${plan.id}`);
    expect(byId.body).toMatchObject({
      count: 1,
      items: [{ id: plan.id, name: plan.name, status: plan.status }],
    });
  });

  it('has groups with UTM templates, groups with enable_utm false and utm null, and all three statuses', async () => {
    const token = await accessToken(sb);
    const groups = (
      await get(sb, token, '/api/v2/ad_groups.json?fields=id,name,status,ad_plan_id,enable_utm,utm&limit=50')
    ).body.items as Array<{ enable_utm: boolean; utm: string | null; status: string }>;
    expect(groups.some((g) => g.utm?.includes('{{campaign_id}}'))).toBe(true);
    expect(groups.some((g) => g.enable_utm === false && g.utm === null)).toBe(true);
    expect(new Set(groups.map((g) => g.status))).toEqual(new Set(['active', 'blocked', 'deleted']));
  });

  it('rejects fields that are not allowed', async () => {
    const token = await accessToken(sb);
    expect((await get(sb, token, '/api/v2/ad_plans.json?fields=id,ad_groups')).status).toBe(400);
    expect((await get(sb, token, '/api/v2/ad_groups.json?fields=id,banners')).status).toBe(400);
  });
});

describe('statistics', () => {
  const liveBanner = () => sb.data.banners.find((b) => b.status === 'active')!;

  it('returns a row for every date, money as strings, item and top-level totals', async () => {
    const token = await accessToken(sb);
    const ids = sb.data.banners
      .filter((b) => b.status !== 'deleted')
      .slice(0, 3)
      .map((b) => b.id);
    const a = await get(
      sb,
      token,
      `/api/v2/statistics/banners/day.json?id=${ids.join(',')}&date_from=2026-11-20&date_to=${addDays(TODAY, 2)}&metrics=base`,
    );
    expect(a.status).toBe(200);
    const items = a.body.items as Array<{
      id: number;
      rows: Array<{ date: string; base: Record<string, unknown> }>;
      total: unknown;
    }>;
    expect(items.map((i) => i.id)).toEqual(ids);
    for (const item of items) {
      expect(item.rows.map((r) => r.date)).toEqual([
        '2026-11-20',
        '2026-11-21',
        '2026-11-22',
        '2026-11-23',
        '2026-11-24',
        '2026-11-25',
        '2026-11-26',
        '2026-11-27',
        '2026-11-28',
        '2026-11-29',
        '2026-11-30',
        '2026-12-01',
      ]);
      for (const row of item.rows) {
        expect(typeof row.base.spent).toBe('string');
        expect(typeof row.base.cpm).toBe('string');
        expect(typeof row.base.shows).toBe('number');
      }
      // Days after "today" exist but are zeros.
      expect(item.rows.at(-1)?.base).toMatchObject({ shows: 0, clicks: 0, spent: '0' });
      expect(item.total).toHaveProperty('base.spent');
    }
    expect(a.body.total).toHaveProperty('base.shows');
  });

  it('answers the documented 400 errors', async () => {
    const token = await accessToken(sb);
    const id = liveBanner().id;
    const stats = (q: string) => get(sb, token, `/api/v2/statistics/banners/day.json?${q}`);
    const code = (a: Answer) => [a.status, (a.body.error as { code: string }).code];

    expect(code(await stats(`id=${id}&date_from=2026-11-01`))).toEqual([400, 'ERR_WRONG_PARAMETER']);
    expect(code(await stats(`date_from=2026-11-01&date_to=2026-11-02`))).toEqual([
      400,
      'ERR_WRONG_PARAMETER',
    ]);
    expect(code(await stats(`id=${id}&date_from=2026-02-30&date_to=2026-03-01`))).toEqual([
      400,
      'ERR_WRONG_DATE',
    ]);
    expect(code(await stats(`id=${id}&date_from=2026-11-05&date_to=2026-11-01`))).toEqual([
      400,
      'ERR_WRONG_DATE',
    ]);
    const ids201 = Array.from({ length: 201 }, (_, i) => 1000 + i).join(',');
    expect(code(await stats(`id=${ids201}&date_from=2026-11-01&date_to=2026-11-02`))).toEqual([
      400,
      'ERR_LIMIT_EXCEEDED',
    ]);
    // 366 days back including today is the horizon.
    expect(
      (await stats(`id=${id}&date_from=${addDays(TODAY, -365)}&date_to=${addDays(TODAY, -364)}`)).status,
    ).toBe(200);
    expect(code(await stats(`id=${id}&date_from=${addDays(TODAY, -366)}&date_to=${TODAY}`))).toEqual([
      400,
      'ERR_LIMIT_EXCEEDED',
    ]);
    expect(code(await stats(`id=${id},999&date_from=2026-11-01&date_to=2026-11-02`))).toEqual([
      400,
      'ERR_WRONG_BANNERS',
    ]);
    const deleted = sb.data.banners.find((b) => b.status === 'deleted')!;
    expect(code(await stats(`id=${deleted.id}&date_from=2026-11-01&date_to=2026-11-02`))).toEqual([
      400,
      'ERR_WRONG_BANNERS',
    ]);
    const unknownPlan = await get(
      sb,
      token,
      '/api/v2/statistics/ad_plans/day.json?id=1&date_from=2026-11-01&date_to=2026-11-02',
    );
    expect(code(unknownPlan)).toEqual([400, 'ERR_WRONG_ADPLANS']);
  });

  it('accepts the id parameter repeated as well as comma-joined', async () => {
    const token = await accessToken(sb);
    const [a, b] = sb.data.banners.filter((x) => x.status === 'active');
    const r = await get(
      sb,
      token,
      `/api/v2/statistics/banners/day.json?id=${a!.id}&id=${b!.id}&date_from=2026-11-01&date_to=2026-11-01`,
    );
    expect((r.body.items as Array<{ id: number }>).map((i) => i.id)).toEqual([a!.id, b!.id]);
  });

  it('gives the same numbers for the same window across restarts, and different ones for another seed', async () => {
    const token = await accessToken(sb);
    const q = `/api/v2/statistics/ad_plans/day.json?id=${sb.data.adPlans[0]!.id}&date_from=2026-06-01&date_to=2026-06-30`;
    const first = (await get(sb, token, q)).body;
    await sb.close();
    sb = await startVkAdsSandbox({ seed: 7, today: () => TODAY });
    const again = (await get(sb, await accessToken(sb), q)).body;
    expect(again).toEqual(first);
    await sb.close();
    sb = await startVkAdsSandbox({ seed: 8, today: () => TODAY });
    expect((await get(sb, await accessToken(sb), q)).body).not.toEqual(first);
  });

  it('spendSpikeDate multiplies spend on that date only', async () => {
    const token = await accessToken(sb);
    const id = sb.data.anchorBannerIds[0]!;
    const q = `/api/v2/statistics/banners/day.json?id=${id}&date_from=2026-11-10&date_to=2026-11-12`;
    type Rows = { items: Array<{ rows: Array<{ base: { spent: string; shows: number } }> }> };
    const before = (await get(sb, token, q)).body as unknown as Rows;
    sb.scenarios.spendSpikeDate = '2026-11-11';
    sb.scenarios.spendSpikeFactor = 4;
    const after = (await get(sb, token, q)).body as unknown as Rows;
    const spent = (r: Rows) => r.items[0]!.rows.map((x) => x.base.spent);
    expect(spent(after)[0]).toBe(spent(before)[0]);
    expect(spent(after)[2]).toBe(spent(before)[2]);
    const kop = (s: string) => Math.round(Number(s) * 100);
    expect(kop(spent(after)[1]!)).toBe(kop(spent(before)[1]!) * 4);
  });

  it('aggregates banners into ad groups and ad plans', async () => {
    const token = await accessToken(sb);
    const group = sb.data.adGroups[0]!;
    const q = (level: string, ids: number[]) =>
      get(
        sb,
        token,
        `/api/v2/statistics/${level}/day.json?id=${ids.join(',')}&date_from=2026-11-01&date_to=2026-11-01`,
      );
    const members = sb.data.banners
      .filter((b) => b.ad_group_id === group.id && b.status !== 'deleted')
      .map((b) => b.id);
    const byBanner = (await q('banners', members)).body.total as { base: { shows: number } };
    const byGroup = (await q('ad_groups', [group.id])).body.total as { base: { shows: number } };
    expect(byGroup.base.shows).toBe(byBanner.base.shows);
  });
});

describe('rate limits and faults', () => {
  it('sends all six X-RateLimit headers on every response, token endpoint included', async () => {
    const names = ['rps', 'hourly', 'daily'].flatMap((p) => [
      `x-ratelimit-${p}-limit`,
      `x-ratelimit-${p}-remaining`,
    ]);
    const t = await mint(sb);
    const l = await get(sb, t.body.access_token as string, '/api/v2/ad_plans.json');
    const e = await get(sb, 'bad', '/api/v2/ad_plans.json');
    for (const a of [t, l, e]) for (const n of names) expect(a.headers.get(n)).toMatch(/^\d+$/);
  });

  it('answers 429 once the per-second limit is used up', async () => {
    await sb.close();
    sb = await startVkAdsSandbox({ seed: 7, today: () => TODAY, rateLimits: { rps: 2 } });
    const token = await accessToken(sb);
    const answers = await Promise.all([1, 2, 3, 4, 5, 6].map(() => get(sb, token, '/api/v2/ad_plans.json')));
    // A calendar second may tick during the burst; one side of it still gets 3 or more requests.
    expect(answers.some((a) => a.status === 429 && a.headers.get('x-ratelimit-rps-remaining') === '0')).toBe(
      true,
    );
  });

  it('status429Count, status5xxCount and failAll switch answers per request', async () => {
    const token = await accessToken(sb);
    sb.faults.status429Count = 1;
    sb.faults.status5xxCount = 1;
    expect((await get(sb, token, '/api/v2/ad_plans.json')).status).toBe(429);
    expect((await get(sb, token, '/api/v2/ad_plans.json')).status).toBe(503);
    expect((await get(sb, token, '/api/v2/ad_plans.json')).status).toBe(200);
    sb.faults.failAll = { status: 502, body: { error: { code: 'ERR_INTERNAL', message: 'down' } } };
    expect((await get(sb, token, '/api/v2/ad_plans.json')).status).toBe(502);
    expect((await mint(sb)).status).toBe(200);
    sb.faults.reset();
    expect((await get(sb, token, '/api/v2/ad_plans.json')).status).toBe(200);
  });

  it('records every request without the token form body', async () => {
    const token = await accessToken(sb);
    await get(sb, token, '/api/v2/ad_plans.json?fields=id&limit=5');
    expect(sb.stats.requests).toEqual([
      { method: 'POST', path: '/api/v2/oauth2/token.json', query: {} },
      { method: 'GET', path: '/api/v2/ad_plans.json', query: { fields: 'id', limit: '5' } },
    ]);
    expect(JSON.stringify(sb.stats.requests)).not.toContain(sb.clientSecret);
  });
});

describe('generated data', () => {
  it('looks like a real account: Russian plan names with cities, duplicate names, statuses', () => {
    const data = buildVkSandboxData({ seed: 3 });
    expect(data.adPlans.length).toBeGreaterThanOrEqual(6);
    expect(data.adPlans.length).toBeLessThanOrEqual(8);
    expect(data.adPlans.map((p) => p.name)).toContain('Щелкунчик Москва');
    expect(data.adPlans.filter((p) => p.name === 'Кухни все города')).toHaveLength(2);
    expect(new Set(data.banners.map((b) => b.status))).toEqual(new Set(['active', 'blocked', 'deleted']));
    expect(data.banners.some((b) => b.urls.primary?.url.includes('utm_'))).toBe(true);
    expect(data.banners.some((b) => b.urls.primary === undefined)).toBe(true);
  });

  it('every one of the last 400 days has non-zero spend in at least 3 distinct cities', () => {
    const data = buildVkSandboxData({ seed: 11 });
    const aliases: CityAlias[] = ANCHOR_CITIES.map((c) => ({ alias: c, city: c }));
    const resolve = createCityResolver([...aliases, { alias: 'СПб', city: 'Санкт-Петербург' }]);
    const cityOf = new Map(
      data.banners.map((b) => {
        const group = data.adGroups.find((g) => g.id === b.ad_group_id)!;
        const plan = data.adPlans.find((p) => p.id === group.ad_plan_id)!;
        return [b.id, resolve([group.name, plan.name])];
      }),
    );
    const live = data.banners.filter((b) => b.status !== 'deleted');
    for (let back = 0; back < 400; back++) {
      const date = addDays(TODAY, -back);
      const cities = new Set(
        live.filter((b) => bannerDayMetrics(data, b, date).spentKop > 0).map((b) => cityOf.get(b.id)),
      );
      cities.delete('');
      expect(cities.size, date).toBeGreaterThanOrEqual(3);
    }
  });

  it('has weekly seasonality, zero-spend days, and kopecks in the spend', () => {
    const data = buildVkSandboxData({ seed: 5 });
    const live = data.banners.filter((b) => b.status === 'active');
    let zeroDays = 0;
    let withKopecks = 0;
    const showsByWeekday = [0, 0, 0, 0, 0, 0, 0];
    for (let back = 0; back < 140; back++) {
      const date = addDays(TODAY, -back);
      for (const b of live) {
        const m = bannerDayMetrics(data, b, date);
        if (m.spentKop === 0) zeroDays++;
        if (m.spentKop % 100 !== 0) withKopecks++;
        showsByWeekday[new Date(`${date}T00:00:00Z`).getUTCDay()]! += m.shows;
      }
    }
    expect(zeroDays).toBeGreaterThan(0);
    expect(withKopecks).toBeGreaterThan(0);
    // Saturday beats Monday.
    expect(showsByWeekday[6]!).toBeGreaterThan(showsByWeekday[1]! * 1.2);
  });

  it('writes decimals the way VK does', () => {
    expect(kopToVkDecimal(284157)).toBe('2841.57');
    expect(kopToVkDecimal(1520)).toBe('15.2');
    expect(kopToVkDecimal(0)).toBe('0');
    expect(kopToVkDecimal(10000)).toBe('100');
  });
});
