/**
 * The VK Ads token pair on disk, shared by every process of this host (CLI runs, the bot, timers).
 * VK allows only 5 live tokens per client id, so the pair is minted once and then refreshed; the
 * file is the single source of truth and a proper-lockfile lock serializes every change to it.
 * Source: https://ads.vk.com/doc/api/info/Authorization ("at most 5 tokens", "the old value stops
 * working immediately").
 */
import { mkdir, readFile, rename, chmod, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { z } from 'zod';
import type { Logger } from 'pino';
import { EtlError } from '../../errors.js';

/** The token store file could not be read, written or locked. Fix the path or its permissions. */
export class VkTokenStoreError extends EtlError {
  constructor(
    readonly storePath: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What the store file holds (JSON, mode 0600). */
export interface StoredVkToken {
  /** The client id the pair belongs to; a pair of another client id is ignored. */
  clientId: string;
  accessToken: string;
  refreshToken: string;
  /** When the access token expires, unix ms. */
  expiresAtMs: number;
  /** When the pair was first minted, unix ms. */
  issuedAtMs: number;
  /** When the access token was last refreshed, unix ms (absent until the first refresh). */
  refreshedAtMs?: number | undefined;
}

const storedSchema = z.object({
  clientId: z.string(),
  accessToken: z.string().min(1),
  refreshToken: z.string().min(1),
  expiresAtMs: z.number(),
  issuedAtMs: z.number(),
  refreshedAtMs: z.number().optional(),
});

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

/**
 * Reads the store. A missing file gives undefined; an unreadable or corrupt one also gives
 * undefined (logged), which makes the caller mint a new pair.
 */
export async function readTokenStore(storePath: string, logger?: Logger): Promise<StoredVkToken | undefined> {
  let text: string;
  try {
    text = await readFile(storePath, 'utf8');
  } catch (error: unknown) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw new VkTokenStoreError(
      storePath,
      `vk_ads: cannot read the token store ${storePath}: ${errorCode(error)}`,
      {
        cause: error,
      },
    );
  }
  try {
    const parsed = storedSchema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
  } catch {
    // fall through: corrupt JSON is treated like a missing store
  }
  logger?.warn(
    { upstream: 'vk_ads', storePath },
    'vk_ads token store is corrupt; a new token will be issued',
  );
  return undefined;
}

/** Writes the store atomically (temp file + rename), mode 0600, creating its directory (0700). */
export async function writeTokenStore(storePath: string, token: StoredVkToken): Promise<void> {
  const tmp = `${storePath}.${process.pid}.tmp`;
  try {
    await mkdir(path.dirname(storePath), { recursive: true, mode: 0o700 });
    await writeFile(tmp, `${JSON.stringify(token, null, 2)}\n`, { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, storePath);
  } catch (error: unknown) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new VkTokenStoreError(
      storePath,
      `vk_ads: cannot write the token store ${storePath} (${errorCode(error)}); the token just issued would be lost, fix the directory permissions (ETL_DATA_DIR)`,
      { cause: error },
    );
  }
}

/** Deletes the store file (no error when it is absent). */
export async function clearTokenStore(storePath: string): Promise<void> {
  await rm(storePath, { force: true });
}

/**
 * Runs `fn` while holding the cross-process lock of the store (`<storePath>.lock`). Waits up to
 * `waitMs` for another holder; a holder that died is considered stale after 15 s.
 * @throws VkTokenStoreError when the lock cannot be taken within `waitMs` or the directory is not writable.
 */
export async function withTokenStoreLock<T>(
  storePath: string,
  waitMs: number,
  fn: () => Promise<T>,
  logger?: Logger,
): Promise<T> {
  let release: () => Promise<void>;
  try {
    await mkdir(path.dirname(storePath), { recursive: true, mode: 0o700 });
    release = await lockfile.lock(storePath, {
      realpath: false,
      stale: 15_000,
      retries: {
        retries: Math.ceil(waitMs / 25) + 10,
        factor: 1.5,
        minTimeout: 25,
        maxTimeout: 250,
        maxRetryTime: waitMs,
      },
      onCompromised: (error) =>
        logger?.error(
          { upstream: 'vk_ads', storePath, reason: error.message },
          'vk_ads token store lock was lost',
        ),
    });
  } catch (error: unknown) {
    const busy = errorCode(error) === 'ELOCKED';
    throw new VkTokenStoreError(
      storePath,
      busy
        ? `vk_ads: another process held the token store lock ${storePath}.lock for more than ${waitMs} ms; try again`
        : `vk_ads: cannot lock the token store ${storePath} (${errorCode(error)}); check the directory permissions (ETL_DATA_DIR)`,
      { cause: error },
    );
  }
  try {
    return await fn();
  } finally {
    await release().catch((error: unknown) =>
      logger?.warn(
        { upstream: 'vk_ads', storePath, reason: String(error) },
        'vk_ads token store unlock failed',
      ),
    );
  }
}
