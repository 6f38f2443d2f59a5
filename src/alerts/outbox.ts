/**
 * The durable local outbox of alerts: an alert is written here before anything else, and its
 * file is removed only when it was both delivered (or refused for good) and stored in
 * `meta.etl_alerts`. The next `etl` invocation (or bot tick) finishes whatever is left, so an
 * alert is neither lost (Telegram or ClickHouse down) nor delivered twice.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { OutgoingMessage } from '../notify/notifier.js';
import type { AlertRecord } from './alert.js';

/** One pending alert. */
export interface OutboxEntry {
  record: AlertRecord;
  /** The message still to deliver; undefined once delivered (or when nothing is to be sent). */
  message: OutgoingMessage | undefined;
}

function dir(stateDir: string): string {
  return path.join(stateDir, 'outbox', 'alerts');
}

/** Writes or updates an entry (atomic rename). */
export function putOutbox(stateDir: string, entry: OutboxEntry): void {
  const d = dir(stateDir);
  mkdirSync(d, { recursive: true });
  const file = path.join(d, `${entry.record.alertId}-${entry.record.version}.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(entry));
  renameSync(tmp, file);
  // Older versions of the same alert are superseded by this one.
  for (const name of safeList(d)) {
    if (
      name.startsWith(`${entry.record.alertId}-`) &&
      name !== path.basename(file) &&
      name.endsWith('.json')
    ) {
      rmSync(path.join(d, name), { force: true });
    }
  }
}

/** Removes every entry of an alert. */
export function removeOutbox(stateDir: string, alertId: string): void {
  const d = dir(stateDir);
  for (const name of safeList(d))
    if (name.startsWith(`${alertId}-`)) rmSync(path.join(d, name), { force: true });
}

/** Pending entries, oldest alert first. Unreadable files are skipped (and left for a human). */
export function readOutbox(stateDir: string): OutboxEntry[] {
  const d = dir(stateDir);
  const entries: OutboxEntry[] = [];
  for (const name of safeList(d).filter((n) => n.endsWith('.json'))) {
    try {
      entries.push(JSON.parse(readFileSync(path.join(d, name), 'utf8')) as OutboxEntry);
    } catch {
      // Skipped: a half-written temp file is never named *.json.
    }
  }
  return entries.sort((a, b) => a.record.ts - b.record.ts || a.record.version - b.record.version);
}

function safeList(d: string): string[] {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
}
