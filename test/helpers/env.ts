/**
 * Test setup shared by the DB tests: a fresh temporary data directory per test file (chdb allows
 * one per process, and vitest runs each file in its own process) and a config pointing at it.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config/loadConfig.js';
import { createLogger } from '../../src/logger.js';

/** A new empty directory under the OS temp dir. */
export function tempDir(prefix = 'zakaz-etl-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Environment for a test: embedded ClickHouse and state under `root`, plus `extra`. */
export function testEnv(root: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    CLICKHOUSE_DATA_DIR: path.join(root, 'clickhouse'),
    ETL_DATA_DIR: path.join(root, 'state'),
    LOG_LEVEL: 'silent',
    HTTP_RETRY_MIN_DELAY_MS: '5',
    VERSION_TAG: 'test',
    ...extra,
  };
}

/** Config for a test rooted at `root`. */
export function testConfig(root: string, extra: Record<string, string> = {}): Config {
  return loadConfig(testEnv(root, extra));
}

export const silentLogger = createLogger('silent');

/** The variables that point the production clients at running sandboxes (Telegram optional). */
export function sandboxEnv(
  vk: { url: string; clientId: string; clientSecret: string },
  qt: { url: string; token: string },
  tg?: { url: string; token: string },
): Record<string, string> {
  return {
    VK_ADS_API_URL: vk.url,
    VK_ADS_CLIENT_ID: vk.clientId,
    VK_ADS_CLIENT_SECRET: vk.clientSecret,
    QTICKETS_API_URL: qt.url,
    QTICKETS_TOKEN: qt.token,
    ...(tg ? { TG_BOT_TOKEN: tg.token, TG_API_ROOT: tg.url } : {}),
  };
}
