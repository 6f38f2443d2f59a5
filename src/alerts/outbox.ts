/**
 * The durable local outbox of alerts: an alert is written here before anything else, and its
 * file is removed only when it was both delivered (or refused for good) and stored in
 * `meta.etl_alerts`. The next `etl` invocation (or bot tick) finishes whatever is left, so an
 * alert is neither lost (Telegram or ClickHouse down) nor delivered twice.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import type { OutgoingMessage } from '../notify/notifier.js';
import type { AlertRecord } from './alert.js';

/** One pending alert. */
export interface OutboxEntry {
  record: AlertRecord;
  /**
   * The message still to deliver, with its attachment and buttons (stored as JSON, so a later
   * delivery sends it exactly as first rendered); undefined once delivered (or when nothing is to
   * be sent).
   */
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

/** Pending entries, oldest alert first, and the files that are not valid entries. */
export function readOutbox(stateDir: string): { entries: OutboxEntry[]; broken: string[] } {
  const d = dir(stateDir);
  const entries: OutboxEntry[] = [];
  const broken: string[] = [];
  for (const name of safeList(d).filter((n) => n.endsWith('.json'))) {
    const file = path.join(d, name);
    try {
      const entry = JSON.parse(readFileSync(file, 'utf8')) as Partial<OutboxEntry>;
      if (!isEntry(entry)) throw new Error('not an outbox entry');
      entries.push(entry);
    } catch {
      broken.push(file);
    }
  }
  entries.sort((a, b) => a.record.ts - b.record.ts || a.record.version - b.record.version);
  return { entries, broken };
}

function isEntry(e: Partial<OutboxEntry>): e is OutboxEntry {
  const r = e.record as Partial<OutboxEntry['record']> | undefined;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.alertId === 'string' &&
    /^[0-9a-f-]{36}$/.test(r.alertId) &&
    typeof r.version === 'number' &&
    typeof r.code === 'string' &&
    (e.message === undefined || (typeof e.message?.html === 'string' && isButtons(e.message.buttons)))
  );
}

/** Rows of `{ text, callbackData }` strings, or absent (entries written before buttons existed). */
function isButtons(buttons: unknown): boolean {
  return (
    buttons === undefined ||
    (Array.isArray(buttons) &&
      buttons.every(
        (row) =>
          Array.isArray(row) &&
          row.every(
            (b: { text?: unknown; callbackData?: unknown } | null) =>
              typeof b?.text === 'string' && typeof b.callbackData === 'string',
          ),
      ))
  );
}

/** Moves an unreadable file aside (`.broken`) so it stops every start; a human can inspect it. */
export function quarantineOutboxFile(file: string): void {
  try {
    renameSync(file, `${file}.broken`);
  } catch {
    // Already moved by another process.
  }
}

/** The message still to deliver for an alert, if its outbox entry has one. */
export function pendingMessage(stateDir: string, alertId: string): OutgoingMessage | undefined {
  const d = dir(stateDir);
  for (const name of safeList(d)) {
    if (!name.startsWith(`${alertId}-`) || !name.endsWith('.json')) continue;
    try {
      const entry = JSON.parse(readFileSync(path.join(d, name), 'utf8')) as Partial<OutboxEntry>;
      if (isEntry(entry) && entry.message) return entry.message;
    } catch {
      // Unreadable: readOutbox reports it.
    }
  }
  return undefined;
}

/**
 * Claims an alert for delivery across processes (two `etl` commands or the bot flushing the
 * same outbox): a proper-lockfile lock per alert id. Undefined when another process holds it.
 */
export async function claimAlert(
  stateDir: string,
  alertId: string,
): Promise<(() => Promise<void>) | undefined> {
  const d = dir(stateDir);
  mkdirSync(d, { recursive: true });
  try {
    return await lockfile.lock(path.join(d, `${alertId}.claim`), {
      realpath: false,
      stale: 30_000,
      update: 5_000,
      onCompromised: () => undefined,
    });
  } catch (error: unknown) {
    if ((error as { code?: string }).code === 'ELOCKED') return undefined;
    throw error;
  }
}

function safeList(d: string): string[] {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
}
