/** Terminal rendering of runs and totals (plain text tables, times in the ETL zone). */
import Table from 'cli-table3';
import type { RunRecord } from '../runner/runRecord.js';
import { formatInstant } from '../time/dates.js';

/** A borderless, aligned text table. */
export function textTable(
  head: string[],
  rows: Array<Array<string | number>>,
  alignRight: number[] = [],
): string {
  const table = new Table({
    head,
    style: { head: [], border: [], compact: true, 'padding-left': 0, 'padding-right': 2 },
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '',
    },
    colAligns: head.map((_, i) => (alignRight.includes(i) ? 'right' : 'left')),
  });
  for (const row of rows) table.push(row.map(String));
  return table.toString().replace(/^\s+$/gm, '').replace(/[ ]+$/gm, '');
}

/** Milliseconds as `1.2 s` / `3 m 05 s`. */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} m ${String(s % 60).padStart(2, '0')} s`;
}

/** The history table of `etl history` and the demo. */
export function runsTable(runs: RunRecord[], timezone: string): string {
  return textTable(
    [
      'started (' + timezone + ')',
      'job',
      'status',
      'window',
      'read',
      'written',
      'duration',
      'trigger',
      'error',
    ],
    runs.map((r) => [
      formatInstant(r.startedAt, timezone),
      r.parentRunId ? `  ${r.job}` : r.job,
      r.status,
      r.fromDate === r.toDate ? r.fromDate : `${r.fromDate}..${r.toDate}`,
      r.rowsRead,
      r.rowsWritten,
      formatDuration(r.durationMs),
      r.trigger,
      r.errMsg.length > 80 ? `${r.errMsg.slice(0, 79)}…` : r.errMsg,
    ]),
    [4, 5, 6],
  );
}

/** One run as a sentence, for the end of `etl run`. */
export function runSummary(r: RunRecord): string {
  const window = r.fromDate === r.toDate ? r.fromDate : `${r.fromDate}..${r.toDate}`;
  const head = `${r.job} ${r.status === 'ok' ? 'ok' : 'FAILED'}: window ${window}, ${r.rowsRead} rows read, ${r.rowsWritten} rows written, ${formatDuration(r.durationMs)} (run ${r.runId})`;
  return r.status === 'ok' ? head : `${head}\n  ${r.errMsg}`;
}
