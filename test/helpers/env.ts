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
