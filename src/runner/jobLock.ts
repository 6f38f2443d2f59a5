/**
 * One run of a job at a time per host, across processes (bot, systemd timer, CLI, CI): a
 * proper-lockfile lock on `<state>/locks/<job>.lock`. The holder refreshes the lock's mtime
 * every `updateMs`; a lock not refreshed for `staleMs` (its process was killed) is taken over.
 * Beside it, `<job>.owner.json` says who holds it, for the "already running" message.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import type { Logger } from 'pino';
import { JobBusyError } from '../errors.js';
import { formatInstant } from '../time/dates.js';

/** How long a lock whose holder stopped refreshing it stays valid, ms (proper-lockfile minimum 2000). */
export const LOCK_STALE_MS = 10_000;
const LOCK_UPDATE_MS = 2_000;

/** Who holds a job lock. */
export interface LockOwner {
  pid: number;
  host: string;
  runId: string;
  trigger: string;
  /** unix seconds */
  startedAt: number;
}

/** A held lock; `release()` is idempotent and never throws. */
export interface HeldLock {
  release(): Promise<void>;
}

function paths(stateDir: string, job: string) {
  const dir = path.join(stateDir, 'locks');
  return { dir, target: path.join(dir, `${job}.lock`), owner: path.join(dir, `${job}.owner.json`) };
}

/**
 * Takes the lock of `job`, waiting up to `waitMs` (0 = fail at once).
 * @throws JobBusyError (exit 75) when another process holds it.
 */
export async function acquireJobLock(options: {
  stateDir: string;
  job: string;
  owner: LockOwner;
  timezone: string;
  waitMs: number;
  logger: Logger;
}): Promise<HeldLock> {
  const p = paths(options.stateDir, options.job);
  mkdirSync(p.dir, { recursive: true });
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(p.target, {
      realpath: false,
      stale: LOCK_STALE_MS,
      update: LOCK_UPDATE_MS,
      retries:
        options.waitMs > 0
          ? { retries: Math.ceil(options.waitMs / 1000), factor: 1, minTimeout: 1000, maxTimeout: 1000 }
          : 0,
      onCompromised: (error: Error) => {
        options.logger.error({ job: options.job, err: error.message }, 'job lock was compromised (taken over as stale)');
      },
    });
  } catch (error: unknown) {
    if ((error as { code?: string }).code === 'ELOCKED') {
      let detail = 'in another process';
      try {
        const o = JSON.parse(readFileSync(p.owner, 'utf8')) as LockOwner;
        detail = `(pid ${o.pid} on ${o.host}, trigger ${o.trigger}, run ${o.runId}, started ${formatInstant(o.startedAt, options.timezone)})`;
      } catch {
        // Owner file missing: the holder is between taking the lock and writing it.
      }
      throw new JobBusyError(options.job, detail);
    }
    throw error;
  }
  writeFileSync(p.owner, JSON.stringify(options.owner));
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      await release().catch((error: unknown) => {
        options.logger.warn({ job: options.job, err: String(error) }, 'job lock release failed');
      });
    },
  };
}
