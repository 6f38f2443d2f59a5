/**
 * Fetch jobs: upstream batches go into a tmp copy of the staging table as they arrive (memory
 * bounded by one batch), and the window is swapped in per day only when the whole fetch
 * succeeded — a failed fetch leaves staging as it was.
 */
import { loadCityAliases } from '../clickhouse/cityAliases.js';
import { replaceWindow, type PartitionedTable } from '../clickhouse/replaceWindow.js';
import type { JobContext, JobOutcome } from '../runner/job.js';
import { createCityResolver, type CityResolver } from '../sources/cityResolver.js';

/** A batch of upstream records and how many records were read to produce it. */
export interface SourceBatch<T> {
  items: readonly T[];
  recordsRead: number;
}

/**
 * Streams `batches` into `target` for `ctx.window`.
 * @param toRow maps one record to a staging row (JSONEachRow); gets the city resolver of
 *              `zakaz.dim_city_alias` and the load time (unix seconds).
 * @returns records read upstream and rows now in staging for the window.
 */
export async function stageWindow<T>(
  ctx: JobContext,
  target: PartitionedTable,
  batches: AsyncIterable<SourceBatch<T>>,
  toRow: (item: T, resolveCity: CityResolver, loadedAt: number) => Record<string, unknown>,
): Promise<JobOutcome> {
  const resolveCity = createCityResolver(await loadCityAliases(ctx.db));
  const loadedAt = Math.floor(Date.now() / 1000);
  let rowsRead = 0;
  const result = await replaceWindow(
    ctx.db,
    target,
    ctx.window,
    ctx.runId,
    async (tmp) => {
      for await (const batch of batches) {
        rowsRead += batch.recordsRead;
        if (batch.items.length === 0) continue;
        await ctx.db.insert(
          tmp,
          batch.items.map((item) => toRow(item, resolveCity, loadedAt)),
          ctx.signal,
        );
      }
    },
    ctx.signal,
  );
  return { rowsRead, rowsWritten: result.rowsWritten };
}
