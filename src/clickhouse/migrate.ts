/**
 * Schema migrations: numbered files `sql/migrations/NNNN_name.sql`, applied in order, one
 * statement at a time, and recorded in the ledger `meta.schema_migrations` after all of a file's
 * statements succeeded. Every statement is idempotent (IF NOT EXISTS, OR REPLACE VIEW), which is
 * the recovery strategy: ClickHouse has no transactions, so a file that failed half-way is simply
 * applied again. An applied file that was edited afterwards is refused (checksum drift):
 * migrations are append-only.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { EtlError } from '../errors.js';
import { sqlPath } from '../util/paths.js';
import { ChCode, clickhouseCode, type Db } from './db.js';
import { splitSql } from './splitSql.js';

/** A migration file found on disk. */
export interface MigrationFile {
  /** `0001` */
  version: string;
  /** `0001_meta.sql` */
  name: string;
  /** sha256 of the file's text, hex. */
  checksum: string;
  text: string;
}

/** What `migrate` did. */
export interface MigrateResult {
  applied: string[];
  alreadyApplied: number;
}

/** An applied migration changed on disk, or a statement failed. */
export class MigrationError extends EtlError {}

/** Rendering context: single node or cluster, and the business time zone for views. */
export interface RenderTarget {
  cluster: string | undefined;
  timezone: string;
}

/**
 * Renders deployment placeholders: `{{ON_CLUSTER}}` → '' or `ON CLUSTER '<name>'`,
 * `{{ENGINE:X}}` → `X` or `ReplicatedX` (no-arg form, valid with ON CLUSTER),
 * `{{TIMEZONE}}` → the ETL zone.
 */
export function renderSql(text: string, target: RenderTarget): string {
  return text
    .replaceAll('{{ON_CLUSTER}}', target.cluster ? `ON CLUSTER '${target.cluster}'` : '')
    .replace(/\{\{ENGINE:([A-Za-z]+)\}\}/g, (_m, engine: string) =>
      target.cluster ? `Replicated${engine}` : engine,
    )
    .replaceAll('{{TIMEZONE}}', target.timezone);
}

/** The migration files in `dir` (default `sql/migrations`), sorted by version. */
export function listMigrations(dir: string = sqlPath('migrations')): MigrationFile[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((name) => {
      const text = readFileSync(path.join(dir, name), 'utf8');
      return {
        version: name.slice(0, 4),
        name,
        checksum: createHash('sha256').update(text).digest('hex'),
        text,
      };
    });
}

/**
 * Applies every pending migration.
 * @param appVersion recorded in the ledger (git commit).
 * @throws MigrationError on checksum drift or a failing statement (with the file and statement number).
 */
export async function migrate(
  db: Db,
  options: { timezone: string; appVersion: string; logger: Logger; dir?: string },
): Promise<MigrateResult> {
  const target: RenderTarget = { cluster: db.cluster, timezone: options.timezone };
  const onCluster = target.cluster ? `ON CLUSTER '${target.cluster}'` : '';
  await db.command(`CREATE DATABASE IF NOT EXISTS meta ${onCluster}`);
  await db.command(
    renderSql(
      `CREATE TABLE IF NOT EXISTS meta.schema_migrations {{ON_CLUSTER}} (
         version String, name String, checksum String, statements UInt16,
         applied_at DateTime64(3, 'UTC'), duration_ms UInt32, app_version LowCardinality(String)
       ) ENGINE = {{ENGINE:ReplacingMergeTree}}(applied_at) ORDER BY version`,
      target,
    ),
  );
  const applied = new Map(
    (
      await db.query<{ version: string; checksum: string }>(
        'SELECT version, checksum FROM meta.schema_migrations FINAL',
      )
    ).map((r) => [r.version, r.checksum]),
  );
  const result: MigrateResult = { applied: [], alreadyApplied: 0 };
  for (const file of listMigrations(options.dir)) {
    const previous = applied.get(file.version);
    if (previous !== undefined) {
      if (previous !== file.checksum) {
        throw new MigrationError(
          `migration ${file.name} was modified after it was applied (checksum drift); migrations are append-only: ` +
            `restore the file and put the change in a new numbered file`,
        );
      }
      result.alreadyApplied++;
      continue;
    }
    const statements = splitSql(renderSql(file.text, target));
    const startedMs = Date.now();
    for (const [i, statement] of statements.entries()) {
      try {
        await db.command(statement);
      } catch (error: unknown) {
        throw new MigrationError(
          `migration ${file.name} failed at statement ${i + 1}/${statements.length}: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
    }
    await db.insert('meta.schema_migrations', [
      {
        version: file.version,
        name: file.name,
        checksum: file.checksum,
        statements: statements.length,
        applied_at: (Date.now() / 1000).toFixed(3),
        duration_ms: Date.now() - startedMs,
        app_version: options.appVersion,
      },
    ]);
    options.logger.info({ migration: file.name, statements: statements.length }, 'migration applied');
    result.applied.push(file.name);
  }
  return result;
}

/** Migration files not yet applied (all of them on an empty database). */
export async function pendingMigrations(db: Db, dir?: string): Promise<string[]> {
  let applied: Set<string>;
  try {
    applied = new Set(
      (await db.query<{ version: string }>('SELECT version FROM meta.schema_migrations FINAL')).map(
        (r) => r.version,
      ),
    );
  } catch (error: unknown) {
    const code = clickhouseCode(error);
    if (code === ChCode.unknownTable || code === ChCode.unknownDatabase) applied = new Set();
    else throw error;
  }
  return listMigrations(dir)
    .filter((m) => !applied.has(m.version))
    .map((m) => m.name);
}
