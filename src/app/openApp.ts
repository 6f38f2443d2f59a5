/**
 * Composition root shared by the CLI commands (and later the bot): opens ClickHouse, brings or
 * checks the schema, performs start-up recovery (spooled records, interrupted runs, leftover
 * tmp tables) and builds the runner.
 */
import os from 'node:os';
import type { Logger } from 'pino';
import type { Config } from '../config/loadConfig.js';
import { embeddedDataExists, openDatabase, type Db } from '../clickhouse/db.js';
import { migrate, pendingMigrations, type MigrateResult } from '../clickhouse/migrate.js';
import { ConfigError, SchemaBehindError } from '../errors.js';
import type { Sources } from '../runner/job.js';
import { recover, type RecoveryReport } from '../runner/recovery.js';
import { createRunner, type Runner, type RunListener } from '../runner/runner.js';
import { resolveVersionTag } from '../runner/versionTag.js';
import { createAlerter, type Alerter } from '../alerts/alerter.js';
import type { Notifier } from '../notify/notifier.js';
import { createNotifier } from './notifier.js';
import { createSources } from './sources.js';

/** An opened application. `close()` releases the database (and the embedded directory). */
export interface App {
  config: Config;
  logger: Logger;
  db: Db;
  runner: Runner;
  versionTag: string;
  migrations: MigrateResult | undefined;
  recovery: RecoveryReport;
  alerter: Alerter;
  close(): Promise<void>;
}

/** Options of `openApp`. */
export interface OpenAppOptions {
  config: Config;
  logger: Logger;
  /** Shown to another process that finds the embedded database busy, e.g. "etl run vk_fetch". */
  owner: string;
  /** `apply`: run pending migrations; `require`: refuse to work on an outdated schema. */
  schema: 'apply' | 'require';
  sources?: Sources;
  /** Where alerts go. @default Telegram when configured, else printed to stderr */
  notifier?: Notifier;
  listeners?: RunListener[];
  now?: () => number;
}

/**
 * Opens the application.
 * @throws DatabaseBusyError (75), DatabaseError, SchemaBehindError (2) when the schema is behind and
 *         `schema` is `require`, MigrationError.
 */
export async function openApp(options: OpenAppOptions): Promise<App> {
  const { config, logger } = options;
  const now = options.now ?? Date.now;
  const versionTag = resolveVersionTag(config.versionTag);
  if (
    options.schema === 'require' &&
    config.clickhouse.url === undefined &&
    !embeddedDataExists(config.clickhouse.dataDir)
  ) {
    // Do not create an empty database at a mistyped path.
    throw new ConfigError([
      `CLICKHOUSE_DATA_DIR: there is no database in ${config.clickhouse.dataDir} yet; run "etl migrate" to create it there, or fix the path`,
    ]);
  }
  const db = await openDatabase({ config, logger, owner: options.owner });
  try {
    let migrations: MigrateResult | undefined;
    if (options.schema === 'apply') {
      migrations = await migrate(db, { timezone: config.timezone, appVersion: versionTag, logger });
    } else {
      const pending = await pendingMigrations(db);
      if (pending.length > 0) {
        throw new SchemaBehindError(pending);
      }
    }
    const recovery = await recover(db, {
      stateDir: config.dataDir,
      host: os.hostname(),
      staleMs: config.runner.heartbeatStaleMs,
      now,
      timezone: config.timezone,
      logger,
    });
    const alerter = createAlerter({
      db,
      notifier: options.notifier ?? createNotifier(config, logger, (text) => process.stderr.write(text)),
      config,
      logger,
      now,
    });
    // Alerts left by earlier processes first, then the runs found interrupted just now.
    await alerter.flushOutbox();
    for (const interrupted of recovery.interrupted) await alerter.onRun(interrupted);
    const runner = createRunner({
      config,
      db,
      sources: options.sources ?? createSources(config, logger),
      logger,
      versionTag,
      now,
      listeners: [async (record) => void (await alerter.onRun(record)), ...(options.listeners ?? [])],
    });
    return { config, logger, db, runner, versionTag, migrations, recovery, alerter, close: () => db.close() };
  } catch (error: unknown) {
    await db.close().catch(() => undefined);
    throw error;
  }
}
