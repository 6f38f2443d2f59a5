import { readFileSync } from 'node:fs';
import dotenv from 'dotenv';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/loadConfig.js';
import { ConfigError } from '../src/errors.js';

const example = dotenv.parse(readFileSync(new URL('../.env.example', import.meta.url)));

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment (embedded ClickHouse, MSK)', () => {
    const c = loadConfig({}, '/srv/etl');
    expect(c.clickhouse).toMatchObject({
      url: undefined,
      dataDir: '/srv/etl/data/clickhouse',
      lockWaitMs: 30_000,
    });
    expect(c.timezone).toBe('Europe/Moscow');
    expect(c.dataDir).toBe('/srv/etl/data/state');
    expect(c.runner).toMatchObject({
      windowDays: 3,
      maxWindowDays: 366,
      backfillChunkDays: 7,
      jobTimeoutMs: 1_800_000,
    });
    expect(c.vkAds.apiUrl).toBe('https://ads.vk.com');
    expect(c.qtickets.apiUrl).toBe('https://qtickets.ru/api/rest/v1');
    expect(c.telegram).toMatchObject({
      language: 'ru',
      apiRoot: 'https://api.telegram.org',
      allowedChatIds: [],
    });
  });

  it('.env.example lists every variable, and parses to the defaults', () => {
    const names = Object.keys(example);
    for (const name of [
      'CLICKHOUSE_URL',
      'CLICKHOUSE_USER',
      'CLICKHOUSE_PASSWORD',
      'CLICKHOUSE_CA_CERT',
      'CLICKHOUSE_CLUSTER',
      'CLICKHOUSE_DATA_DIR',
      'ETL_TIMEZONE',
      'ETL_DATA_DIR',
      'TG_BOT_TOKEN',
      'TG_CHAT_ID',
      'TG_ALLOWED_CHAT_IDS',
      'TG_ADMIN_USER_IDS',
      'TG_API_ROOT',
      'BOT_LANGUAGE',
      'VK_ADS_CLIENT_ID',
      'VK_ADS_CLIENT_SECRET',
      'VK_ADS_API_URL',
      'QTICKETS_TOKEN',
      'QTICKETS_API_URL',
      'VERSION_TAG',
      'LOG_LEVEL',
    ]) {
      expect(names).toContain(name);
    }
    expect(loadConfig(example, '/x')).toEqual(loadConfig({}, '/x'));
  });

  it('every variable of .env.example is one the schema validates', () => {
    // Every variable of .env.example is known to the schema: a bad value for it is reported.
    const bad = Object.fromEntries(Object.keys(example).map((k) => [k, '%%bad%%']));
    const known = [
      'CLICKHOUSE_USER',
      'CLICKHOUSE_PASSWORD',
      'CLICKHOUSE_DATA_DIR',
      'ETL_DATA_DIR',
      'VK_ADS_CLIENT_ID',
      'VK_ADS_CLIENT_SECRET',
      'QTICKETS_TOKEN',
      'VERSION_TAG',
    ];
    try {
      loadConfig(bad);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const named = (error as ConfigError).problems.map((p) => p.split(':')[0]);
      expect(new Set([...named, ...known])).toEqual(new Set(Object.keys(example)));
    }
  });

  it('reports every bad variable at once, with what it expects, and hides secret values', () => {
    expect.assertions(6);
    try {
      loadConfig({
        CLICKHOUSE_URL: 'not a url',
        ETL_TIMEZONE: 'Europe/Mosco',
        ETL_WINDOW_DAYS: '0',
        TG_BOT_TOKEN: 'hunter2-secret',
        BOT_LANGUAGE: 'de',
      });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const text = (error as ConfigError).message;
      expect(text).toMatch(/CLICKHOUSE_URL: expected an http\(s\) URL, got "not a url"/);
      expect(text).toMatch(/ETL_TIMEZONE: expected an IANA time zone .* \(got "Europe\/Mosco"\)/);
      expect(text).toMatch(/ETL_WINDOW_DAYS: expected a whole number of days from 1 to 366/);
      expect(text).toMatch(/BOT_LANGUAGE: expected ru or en/);
      expect(text).not.toContain('hunter2-secret');
    }
  });

  it('TG_ALLOWED_CHAT_IDS defaults to TG_CHAT_ID', () => {
    expect(loadConfig({ TG_CHAT_ID: '-1001234' }).telegram.allowedChatIds).toEqual(['-1001234']);
    expect(
      loadConfig({ TG_CHAT_ID: '-1001234', TG_ALLOWED_CHAT_IDS: '1, 2' }).telegram.allowedChatIds,
    ).toEqual(['1', '2']);
  });
});
