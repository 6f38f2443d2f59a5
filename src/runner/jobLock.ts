/**
 * One run of a job at a time per host, across processes (bot, systemd timer, CLI, CI): a
 * proper-lockfile lock on `<state>/locks/<job>.lock`. The holder refreshes the lock's mtime
 * every `updateMs`; a lock not refreshed for `staleMs` (its process was killed) is taken over.
 * Beside it, `<job>.owner.json` says who holds it, for the "already running" message.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import type { Logger } from 'pino';
import { JobBusyError } from '../errors.js';
import { formatInstant } from '../time/dates.js';
import { ownerAlive } from './processIdentity.js';

/** How long a lock whose holder stopped refreshing it stays valid, ms (proper-lockfile minimum 2000). */
export const LOCK_STALE_MS = 10_000;
const LOCK_UPDATE_MS = 2_000;

/** Who holds a job lock. */
export interface LockOwner {
  pid: number;
  /** `processIdentity(pid)`; '' where /proc is unavailable. */
  identity: string;
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

function readOwner(file: string): LockOwner | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockOwner;
  } catch {
    // Missing: the holder is between taking the lock and writing the file.
    return undefined;
  }
}

function paths(stateDir: string, job: string) {
  const dir = path.join(stateDir, 'locks');
  return { dir, target: path.join(dir, `${job}.lock`), owner: path.join(dir, `${job}.owner.json`) };
}

/**
 * Takes the lock of `job`, waiting up to `waitMs` (0 = fail at once).
 * @throws JobBusyError (exit 75) when another process holds it.
 */
export async function acquireJobLock(
  options: {
    stateDir: string;
    job: string;
    owner: LockOwner;
    timezone: string;
    waitMs: number;
    logger: Logger;
  },
  takenOver = false,
): Promise<HeldLock> {
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
        options.logger.error(
          { job: options.job, err: error.message },
          'job lock was compromised (taken over as stale)',
        );
      },
    });
  } catch (error: unknown) {
    if ((error as { code?: string }).code !== 'ELOCKED') throw error;
    const owner = readOwner(p.owner);
    // A holder on this host whose process is gone (killed) cannot refresh its lock; rather than
    // refusing runs until the lock goes stale, take it over now. The owner is read again right
    // before, so a process that has just taken the lock over is not robbed of it.
    if (
      !takenOver &&
      owner &&
      owner.host === options.owner.host &&
      !ownerAlive(owner.pid, owner.identity ?? '')
    ) {
      const again = readOwner(p.owner);
      if (again?.pid === owner.pid) {
        // proper-lockfile only unlocks its own locks; its lock is the directory `<target>.lock`.
        rmSync(`${p.target}.lock`, { recursive: true, force: true });
        options.logger.warn({ job: options.job, deadPid: owner.pid }, 'took over the lock of a killed run');
        return acquireJobLock({ ...options }, true);
      }
    }
    const detail = owner
      ? `(pid ${owner.pid} on ${owner.host}, trigger ${owner.trigger}${owner.runId ? `, run ${owner.runId}` : ''}, started ${formatInstant(owner.startedAt, options.timezone)})`
      : 'in another process';
    throw new JobBusyError(options.job, detail);
  }
  writeFileSync(p.owner, JSON.stringify(options.owner));
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      if (readOwner(p.owner)?.pid === process.pid) rmSync(p.owner, { force: true });
      await release().catch((error: unknown) => {
        options.logger.warn({ job: options.job, err: String(error) }, 'job lock release failed');
      });
    },
  };
}
