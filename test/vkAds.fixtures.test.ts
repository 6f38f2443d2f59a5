/**
 * The client's parsers read real recorded VK Ads responses (copied from the shared fixtures into
 * test/fixtures/vk_ads/, byte-identical): served over HTTP by a tiny local server for the list
 * path, and parsed directly for the legacy campaigns page.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamFormatError } from '../src/errors.js';
import {
  createVkAdsClient,
  parseVkBody,
  vkAdPlanSchema,
  vkLegacyCampaignSchema,
  vkListPageSchema,
} from '../src/sources/vkAds/index.js';

const FIXTURES = path.join(import.meta.dirname, 'fixtures', 'vk_ads');
const adPlansText = readFileSync(path.join(FIXTURES, 'ad_plans.json'), 'utf8');
const campaignsText = readFileSync(path.join(FIXTURES, 'campaigns_page1.json'), 'utf8');

const PLAN_IDS = [
  8798776, 8799187, 8857825, 8873773, 8892120, 8892301, 8975909, 9058993, 9088521, 9293538, 9293811, 9346950,
  9407497, 9749471, 9891876, 10500321, 10500346, 10843965, 13825753,
];

let server: Server;
let apiUrl: string;
const served: string[] = [];

beforeAll(async () => {
  // Answers like ads.vk.com would: a token, then the recorded bodies for the list routes.
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fixture.local');
    served.push(url.pathname);
    const send = (status: number, body: string) => {
      res.writeHead(status, { 'Content-Type': 'application/json; charset=UTF-8' });
      res.end(body);
    };
    if (url.pathname === '/api/v2/oauth2/token.json') {
      return send(
        200,
        JSON.stringify({
          access_token: 'fixture-access',
          token_type: 'bearer',
          scope: ['read_ads'],
          expires_in: 86400,
          refresh_token: 'fixture-refresh',
        }),
      );
    }
    if (url.pathname === '/api/v2/ad_plans.json') return send(200, adPlansText);
    // The legacy campaigns page lacks ad_plan_id: served as ad groups, it must be refused clearly.
    if (url.pathname === '/api/v2/ad_groups.json') return send(200, campaignsText);
    return send(404, JSON.stringify({ error: { code: 'ERR_WRONG_RESOURCE', message: 'Unknown resource' } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function client() {
  return createVkAdsClient({
    apiUrl,
    clientId: 'fixture-client',
    clientSecret: 'fixture-secret',
    tokenStorePath: path.join(mkdtempSync(path.join(os.tmpdir(), 'vk-fixture-')), 'token.json'),
    retry: { retries: 1, minDelayMs: 10, maxDelayMs: 20, attemptTimeoutMs: 5_000 },
  });
}

describe('recorded VK Ads responses', () => {
  it('the client lists the 19 recorded ad plans (numeric expires_in and array scope accepted)', async () => {
    const plans = await client().listAdPlans();
    expect(plans.map((p) => p.id)).toEqual(PLAN_IDS);
    expect(plans[0]).toEqual({ id: 8798776, name: 'Реклама на кухни / все города' });
    expect(plans.filter((p) => p.name === 'Кухни все города')).toHaveLength(3);
    expect(plans.filter((p) => p.name === 'пост на охват Шатура')).toHaveLength(2);
    // count 19 = items 19: one page is enough.
    expect(served.filter((p) => p === '/api/v2/ad_plans.json')).toHaveLength(1);
  });

  it('parses the first page of legacy campaigns (ad groups): 20 items of 55', () => {
    const page = parseVkBody(
      campaignsText,
      vkListPageSchema(vkLegacyCampaignSchema),
      'GET /api/v2/campaigns.json',
    );
    expect(page.count).toBe(55);
    expect(page.offset).toBe(0);
    expect(page.items).toHaveLength(20);
    expect(page.items[0]).toEqual({ id: 107921416, name: 'широкая', package_id: 3127 });
    expect(page.items.filter((i) => i.package_id === 3127)).toHaveLength(18);
    expect(page.items.filter((i) => i.package_id === 3194)).toHaveLength(2);
    expect(new Set(page.items.map((i) => i.name)).size).toBe(14);
  });

  it('parses the recorded ad plans with the ad plan schema directly', () => {
    const page = parseVkBody(adPlansText, vkListPageSchema(vkAdPlanSchema), 'GET /api/v2/ad_plans.json');
    expect(page).toMatchObject({ count: 19, offset: 0 });
    expect(page.limit).toBeUndefined();
    expect(page.items.map((p) => p.id)).toEqual(PLAN_IDS);
  });

  it('an ad group page without ad_plan_id is a format error naming the field', async () => {
    const err = await client()
      .listAdGroups()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamFormatError);
    expect((err as Error).message).toMatch(/GET \/api\/v2\/ad_groups\.json/);
    expect((err as Error).message).toMatch(/items\.0\.ad_plan_id/);
  });
});
