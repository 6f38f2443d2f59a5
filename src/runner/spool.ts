/**
 * Local spool of run records that could not be written to ClickHouse when the run ended
 * (server down, network split). Each record is one JSON file, written atomically; the next `etl`
 * invocation (or bot start) writes them to `meta.etl_runs` and removes them. A record is never
 * lost and never written twice (run_id already present → the file is just removed).
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RunRecord } from './runRecord.js';

/** Directory of spooled runs under the state directory. */
export function spoolDir(stateDir: string): string {
  return path.join(stateDir, 'spool', 'runs');
}

/** Writes `record` to the spool (atomic rename). */
export function spoolRun(stateDir: string, record: RunRecord): string {
  const dir = spoolDir(stateDir);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${record.runId}.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(record));
  renameSync(tmp, file);
  return file;
}

/** Spooled records with their files, oldest first; unreadable files are reported as `broken`. */
export function readSpool(stateDir: string): {
  records: Array<{ file: string; record: RunRecord }>;
  broken: string[];
} {
  const dir = spoolDir(stateDir);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return { records: [], broken: [] };
  }
  const records: Array<{ file: string; record: RunRecord }> = [];
  const broken: string[] = [];
  for (const name of names.sort()) {
    const file = path.join(dir, name);
    try {
      records.push({ file, record: JSON.parse(readFileSync(file, 'utf8')) as RunRecord });
    } catch {
      broken.push(file);
    }
  }
  records.sort((a, b) => a.record.startedAt - b.record.startedAt);
  return { records, broken };
}

/** Removes a spooled file once its record is in ClickHouse. */
export function removeSpooled(file: string): void {
  rmSync(file, { force: true });
}
