/**
 * Replaces exactly one window of a day-partitioned table, so that running a job twice leaves
 * identical contents and a reader never sees a half-written day (reference/clickhouse-chdb.md §1,
 * method c): the new rows go to a per-run tmp table with the target's structure, then each day
 * of the window is swapped in with `ALTER TABLE … REPLACE PARTITION` (atomic per day), or dropped
 * with `DROP PARTITION` when the rebuilt day is empty (ClickHouse 26.x refuses REPLACE from an
 * empty source). A crash only damages the tmp table, which the next start drops.
 */
import { EtlError } from '../errors.js';
import { eachDay, isIsoDate, type DateWindow, type IsoDate } from '../time/dates.js';
import type { DbClient } from './db.js';

/** Suffix of every tmp table, so leftovers of killed runs can be found and dropped. */
export const TMP_MARKER = '__tmp_';

/** A day-partitioned target table. */
export interface PartitionedTable {
  /** `database.table` */
  table: string;
  /** The Date column the table is partitioned by (`PARTITION BY <dateColumn>`). */
  dateColumn: string;
  /** The table's ORDER BY expression, repeated for the tmp table. */
  orderBy: string;
}

/** What a window replacement wrote. */
export interface ReplaceResult {
  /** Rows now in the target for the window. */
  rowsWritten: number;
  /** Days of the window that ended up with rows. */
  daysWithRows: IsoDate[];
}

/**
 * A partition literal for an ISO date. The value is validated here, so inlining is safe; a
 * literal (not a query parameter) works on every server version.
 * @throws EtlError for anything that is not a real `YYYY-MM-DD` date.
 */
export function partitionLiteral(date: string): string {
  if (!isIsoDate(date)) throw new EtlError(`refusing partition literal for "${date}": not a YYYY-MM-DD date`);
  return `'${date}'`;
}

/** Name of the tmp table of a run: `<db>.<table>__tmp_<runId without dashes>`. */
export function tmpTableName(table: string, runId: string): string {
  if (!/^[a-z_]+\.[a-z_]+$/.test(table)) throw new EtlError(`bad table name ${table}`);
  return `${table}${TMP_MARKER}${runId.replace(/[^0-9a-f]/gi, '')}`;
}

/**
 * Fills a tmp copy of `target` with `fill(tmpTable)` and swaps every day of `window` into the
 * target. Rows of `fill` outside the window are an error (they would be silently lost).
 * @throws EtlError when the tmp table holds days outside the window; DatabaseError from ClickHouse.
 */
export async function replaceWindow(
  db: DbClient,
  target: PartitionedTable,
  window: DateWindow,
  runId: string,
  fill: (tmpTable: string) => Promise<void>,
  signal?: AbortSignal,
): Promise<ReplaceResult> {
  const tmp = tmpTableName(target.table, runId);
  await db.command(`DROP TABLE IF EXISTS ${tmp} SYNC`);
  await db.command(
    `CREATE TABLE ${tmp} AS ${target.table} ENGINE = MergeTree PARTITION BY ${target.dateColumn} ORDER BY ${target.orderBy}`,
  );
  try {
    await fill(tmp);
    signal?.throwIfAborted();
    const counts = await db.query<{ d: string; n: string }>(
      `SELECT toString(${target.dateColumn}) AS d, count() AS n FROM ${tmp} GROUP BY d ORDER BY d`,
    );
    const outside = counts.filter((c) => c.d < window.fromDate || c.d > window.toDate);
    if (outside.length > 0) {
      throw new EtlError(
        `refusing to write ${target.table}: rows for ${outside.map((c) => c.d).join(', ')} fall outside the window ${window.fromDate}..${window.toDate}`,
      );
    }
    const present = new Map(counts.map((c) => [c.d, Number(c.n)]));
    for (const day of eachDay(window)) {
      signal?.throwIfAborted();
      await db.command(
        present.has(day)
          ? `ALTER TABLE ${target.table} REPLACE PARTITION ${partitionLiteral(day)} FROM ${tmp}`
          : `ALTER TABLE ${target.table} DROP PARTITION ${partitionLiteral(day)}`,
      );
    }
    return {
      rowsWritten: [...present.values()].reduce((a, b) => a + b, 0),
      daysWithRows: [...present.keys()],
    };
  } finally {
    await db.command(`DROP TABLE IF EXISTS ${tmp} SYNC`).catch(() => undefined);
  }
}
