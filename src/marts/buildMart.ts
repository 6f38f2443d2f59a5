/**
 * Mart builds: an `INSERT … SELECT` inside ClickHouse (sql/marts/<file>) into a tmp copy of the
 * mart, then each day of the window swapped in. Nothing passes through Node, so memory does not
 * grow with the window.
 */
import { readFileSync } from 'node:fs';
import { replaceWindow, type PartitionedTable } from '../clickhouse/replaceWindow.js';
import type { JobContext, JobOutcome } from '../runner/job.js';
import { sqlPath } from '../util/paths.js';

/** Where a mart is built from, for `rows_read`. */
export interface MartSource {
  /** Staging rows the build reads for the window. */
  countSql: string;
}

/**
 * Rebuilds `target` for `ctx.window` with the SQL file `sql/marts/<sqlFile>`. The file uses
 * `{{TARGET}}` for the tmp table and `{from_date:Date}`, `{to_date:Date}`, `{run_id:UUID}`.
 * @returns rows read from staging and rows now in the mart for the window.
 */
export async function buildMart(
  ctx: JobContext,
  target: PartitionedTable,
  sqlFile: string,
  source: MartSource,
): Promise<JobOutcome> {
  const template = readFileSync(sqlPath('marts', sqlFile), 'utf8');
  const params = { from_date: ctx.window.fromDate, to_date: ctx.window.toDate, run_id: ctx.runId };
  const [read] = await ctx.db.query<{ n: string }>(source.countSql, params, ctx.signal);
  const result = await replaceWindow(
    ctx.db,
    target,
    ctx.window,
    ctx.runId,
    async (tmp) => {
      await ctx.db.command(template.replaceAll('{{TARGET}}', tmp), params, ctx.signal);
    },
    ctx.signal,
  );
  return { rowsRead: Number(read?.n ?? 0), rowsWritten: result.rowsWritten };
}
