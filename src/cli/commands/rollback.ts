/**
 * `etl rollback [--yes] [--dry-run]`: drops zakaz-etl's own ClickHouse objects (sql/rollback.sql:
 * the `meta` run registry, alerts, heartbeats, migration ledger and views; the `zakaz` data
 * stays). Destructive, so it asks: at a terminal the operator types `DROP meta`; elsewhere
 * `--yes` is required. `--dry-run` prints the statements and changes nothing.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { openDatabase } from '../../clickhouse/db.js';
import { renderSql } from '../../clickhouse/migrate.js';
import { splitSql } from '../../clickhouse/splitSql.js';
import { ExitCode, UsageError } from '../../errors.js';
import { sqlPath } from '../../util/paths.js';
import type { CommandContext } from '../main.js';

const CONFIRMATION = 'DROP meta';

/**
 * Runs the rollback.
 * @returns 0 done (or dry run), 1 declined at the prompt.
 * @throws UsageError (2) without --yes when stdin is not a terminal; DatabaseError.
 */
export async function rollbackCommand(
  ctx: CommandContext,
  opts: { yes?: boolean; dryRun?: boolean },
): Promise<number> {
  const config = ctx.config();
  const statements = splitSql(
    renderSql(readFileSync(sqlPath('rollback.sql'), 'utf8'), {
      cluster: config.clickhouse.cluster,
      timezone: config.timezone,
    }),
  );
  const where =
    config.clickhouse.url === undefined
      ? `embedded ClickHouse in ${config.clickhouse.dataDir}`
      : `ClickHouse at ${new URL(config.clickhouse.url).host}`;
  if (opts.dryRun) {
    ctx.out(`-- would run on ${where}:`);
    for (const s of statements) ctx.out(`${s};`);
    return ExitCode.ok;
  }
  if (!opts.yes) {
    if (!process.stdin.isTTY) {
      throw new UsageError(
        'rollback drops the run history and alerts (database meta); run it at a terminal to confirm, or pass --yes',
      );
    }
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const answer = await rl.question(
        `This drops meta.etl_runs, meta.etl_alerts, meta.etl_heartbeats, meta.schema_migrations and the meta views on ${where}.\nType "${CONFIRMATION}" to go on: `,
      );
      if (answer.trim() !== CONFIRMATION) {
        ctx.out('rollback: not confirmed; nothing was dropped');
        return ExitCode.failed;
      }
    } finally {
      rl.close();
    }
  }
  const db = await openDatabase({ config, logger: ctx.logger(config), owner: 'etl rollback' });
  try {
    for (const s of statements) await db.command(s);
    const [left] = await db.query<{ n: string }>(
      "SELECT count() AS n FROM system.tables WHERE database = 'meta'",
    );
    if (Number(left?.n ?? 0) === 0) {
      await db.command(
        `DROP DATABASE IF EXISTS meta ${config.clickhouse.cluster ? `ON CLUSTER '${config.clickhouse.cluster}'` : ''}`,
      );
    }
  } finally {
    await db.close();
  }
  ctx.out(
    `rollback: dropped zakaz-etl's meta objects on ${where}; the zakaz tables are untouched ("etl migrate" recreates meta and re-inserts the city alias seed)`,
  );
  return ExitCode.ok;
}
