/**
 * The local directories a process writes (state: token store, locks, spool; the embedded
 * ClickHouse directory's parent), checked up front so that a wrong path is reported as a
 * configuration problem naming its variable, not as a file-system error mid-run.
 */
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/loadConfig.js';
import { ConfigError } from '../errors.js';

function explain(error: unknown): string {
  const code = (error as { code?: string }).code;
  switch (code) {
    case 'ENOTDIR':
    case 'EEXIST':
      return 'a part of the path is a file, not a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'the file system is read-only';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

function writableDir(dir: string, variable: string, problems: string[]): void {
  try {
    mkdirSync(dir, { recursive: true });
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    accessSync(dir, constants.W_OK);
  } catch (error: unknown) {
    problems.push(`${variable}: cannot use ${dir}: ${explain(error)}`);
  }
}

/**
 * Creates the state directory and the embedded data directory's parent when missing.
 * @throws ConfigError naming `ETL_DATA_DIR` / `CLICKHOUSE_DATA_DIR` when a path cannot be used.
 */
export function prepareLocalDirs(config: Config): void {
  const problems: string[] = [];
  writableDir(config.dataDir, 'ETL_DATA_DIR', problems);
  if (config.clickhouse.url === undefined) {
    const dir = config.clickhouse.dataDir;
    let isFile = false;
    try {
      isFile = !statSync(dir).isDirectory();
    } catch {
      // Missing: it is created on first open.
    }
    if (isFile) problems.push(`CLICKHOUSE_DATA_DIR: ${dir} is a file, expected a directory`);
    else writableDir(path.dirname(dir), 'CLICKHOUSE_DATA_DIR', problems);
  }
  if (problems.length > 0) throw new ConfigError(problems);
}
