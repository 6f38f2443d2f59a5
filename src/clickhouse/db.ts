/**
 * ClickHouse access for both modes behind one small API: embedded (chdb, a data directory owned
 * by one process at a time) when `CLICKHOUSE_URL` is empty, an HTTP(S) server otherwise.
 *
 * Rules kept here so that callers cannot break them (reference/clickhouse-chdb.md):
 * - settings that differ between modes are pinned at client level (64-bit integers and decimals
 *   quoted in JSON, session time zone = ETL zone, synchronous inserts); no per-call settings,
 *   because chdb leaks them into later queries; per-statement settings go in the SQL text;
 * - one statement per call (split `.sql` files with `splitSql`);
 * - parameters only as `{name:Type}` with values as strings/numbers (dates `YYYY-MM-DD`,
 *   DateTimes as unix seconds), never concatenated into SQL;
 * - errors mapped by ClickHouse's numeric `code`, never by message text.
 */
import { readFileSync, mkdirSync, writeFileSync, rmSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import type { Logger } from 'pino';
import type { Config } from '../config/loadConfig.js';
import { DatabaseBusyError, DatabaseError } from '../errors.js';

/** Query parameters: names match `{name:Type}` placeholders. */
export type QueryParams = Record<string, string | number | bigint | boolean | null | string[] | number[]>;

/** One statement interface shared by the data and control connections. */
export interface DbClient {
  /** Runs a SELECT and returns its rows (JSONEachRow; 64-bit integers and decimals as strings). */
  query<T = Record<string, unknown>>(sql: string, params?: QueryParams, signal?: AbortSignal): Promise<T[]>;
  /** Runs a statement that returns no rows (DDL, INSERT … SELECT, ALTER). */
  command(sql: string, params?: QueryParams, signal?: AbortSignal): Promise<void>;
  /** Inserts rows as JSONEachRow in batches of at most `batchRows` (default 50 000). */
  insert(table: string, rows: ReadonlyArray<Record<string, unknown>>, signal?: AbortSignal): Promise<void>;
}

/** An open database: data statements on the main connection, registry and heartbeats on `control`. */
export interface Db extends DbClient {
  readonly mode: 'embedded' | 'server';
  /** Cluster name for `ON CLUSTER` DDL, when configured. */
  readonly cluster: string | undefined;
  /** A second connection so heartbeats and run records are not queued behind a long build. */
  readonly control: DbClient;
  close(): Promise<void>;
}

/** Options of `openDatabase`. */
export interface OpenDatabaseOptions {
  config: Config;
  logger: Logger;
  /** What opened it (e.g. "etl run vk_fetch"), shown to a process that finds the directory busy. */
  owner: string;
  /** Injected clock for the lock wait, ms. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const INSERT_BATCH_ROWS = 50_000;

/** The client's own logger prints stack traces to stderr; errors are reported by this module instead. */
const QUIET = { level: ClickHouseLogLevel.OFF };

type ChConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

/** ClickHouse error codes this product reacts to. */
export const ChCode = {
  cannotOpenFile: '76',
  unknownTable: '60',
  unknownDatabase: '81',
  tableAlreadyExists: '57',
  queryWasCancelled: '394',
  timeoutExceeded: '159',
} as const;

/** The ClickHouse error code of a thrown value (a string such as "60"), if it is a ClickHouse error. */
export function clickhouseCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { code?: unknown; cause?: { clickhouseCode?: unknown } };
  if (typeof e.code === 'string' && /^\d+$/.test(e.code)) return e.code;
  if (typeof e.cause?.clickhouseCode === 'number') return String(e.cause.clickhouseCode);
  return undefined;
}

function pinnedSettings(timezone: string) {
  return {
    output_format_json_quote_64bit_integers: 1,
    output_format_json_quote_decimals: 1,
    date_time_input_format: 'best_effort',
    async_insert: 0,
    session_timezone: timezone,
    // Staging and marts are partitioned by day, so one insert of a long window touches one
    // partition per day (the default limit of 100 would refuse a 4-month window).
    max_partitions_per_insert_block: '4000',
  } as const;
}

function wrap(client: ClickHouseClient, label: string): DbClient {
  const fail = (error: unknown, sql: string): never => {
    const code = clickhouseCode(error);
    const msg = error instanceof Error ? error.message : String(error);
    const head = sql.replace(/\s+/g, ' ').trim().slice(0, 80);
    throw new DatabaseError(
      `ClickHouse ${code ? `error ${code}` : 'call failed'} (${label}): ${msg.trim()} [in: ${head}]`,
      code,
      {
        cause: error,
      },
    );
  };
  return {
    async query<T>(sql: string, params?: QueryParams, signal?: AbortSignal): Promise<T[]> {
      try {
        const rs = await client.query({
          query: sql,
          query_params: params,
          format: 'JSONEachRow',
          abort_signal: signal,
        });
        return await rs.json<T>();
      } catch (error: unknown) {
        return fail(error, sql);
      }
    },
    async command(sql: string, params?: QueryParams, signal?: AbortSignal): Promise<void> {
      try {
        await client.command({ query: sql, query_params: params, abort_signal: signal });
      } catch (error: unknown) {
        fail(error, sql);
      }
    },
    async insert(
      table: string,
      rows: ReadonlyArray<Record<string, unknown>>,
      signal?: AbortSignal,
    ): Promise<void> {
      for (let i = 0; i < rows.length; i += INSERT_BATCH_ROWS) {
        try {
          await client.insert({
            table,
            values: rows.slice(i, i + INSERT_BATCH_ROWS),
            format: 'JSONEachRow',
            abort_signal: signal,
          });
        } catch (error: unknown) {
          fail(error, `INSERT INTO ${table}`);
        }
      }
    },
  };
}

/** Who opened an embedded data directory (written beside it as `<dir>.owner.json`). */
export interface OwnerRecord {
  pid: number;
  owner: string;
  startedAt: string;
}

function ownerFile(dataDir: string): string {
  return `${dataDir.replace(/\/+$/, '')}.owner.json`;
}

function readOwner(dataDir: string): OwnerRecord | undefined {
  try {
    return JSON.parse(readFileSync(ownerFile(dataDir), 'utf8')) as OwnerRecord;
  } catch {
    return undefined;
  }
}

/**
 * The process that holds the embedded directory's lock (ClickHouse locks `<dir>/status`), if it
 * is another live process. Read from /proc/locks (Linux), which names the real holder even when
 * it is not zakaz-etl; elsewhere from the owner file this module writes.
 */
export function embeddedLockHolder(
  dataDir: string,
): { pid: number; owner: OwnerRecord | undefined } | undefined {
  const status = path.join(dataDir, 'status');
  let inode: number;
  try {
    inode = statSync(status).ino;
  } catch {
    return undefined;
  }
  const owner = readOwner(dataDir);
  let locks: string | undefined;
  try {
    locks = readFileSync('/proc/locks', 'utf8');
  } catch {
    locks = undefined;
  }
  if (locks !== undefined) {
    for (const line of locks.split('\n')) {
      const m = /^\d+:\s+(?:->\s+)?\S+\s+\S+\s+\S+\s+(\d+)\s+[0-9a-f]+:[0-9a-f]+:(\d+)\s/.exec(line);
      if (m && Number(m[2]) === inode) {
        const pid = Number(m[1]);
        if (pid === process.pid) return undefined;
        return { pid, owner: owner?.pid === pid ? owner : undefined };
      }
    }
    return undefined;
  }
  if (owner && owner.pid !== process.pid && ownerAlive(owner.pid)) return { pid: owner.pid, owner };
  return undefined;
}

function ownerAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error: unknown) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

async function openEmbedded(options: OpenDatabaseOptions): Promise<Db> {
  const { config, logger } = options;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  const dataDir = config.clickhouse.dataDir;
  mkdirSync(path.dirname(dataDir), { recursive: true });
  // Loaded lazily: importing chdb maps libchdb (~250 MB) into the process.
  const { createChdbConnection } = await import('chdb/connection');
  // chdb builds on its own copy of the client's connection types; the runtime contract is the same.
  const connect = (): ChConnection => createChdbConnection({ path: dataDir }) as unknown as ChConnection;
  const deadline = now() + config.clickhouse.lockWaitMs;
  const busy = (holder: { pid: number; owner: OwnerRecord | undefined } | undefined, cause?: unknown) => {
    const who = holder
      ? holder.owner
        ? `process ${holder.pid} ("${holder.owner.owner}", since ${holder.owner.startedAt})`
        : `process ${holder.pid}`
      : 'another process';
    return new DatabaseBusyError(
      `The embedded ClickHouse data directory ${dataDir} is in use by ${who}; waited ${(config.clickhouse.lockWaitMs / 1000).toFixed(1)} s. ` +
        `Only one process may open it: use the chat bot's commands while the bot runs, wait for that process or stop it, ` +
        `or point CLICKHOUSE_URL at a ClickHouse server.`,
      { cause },
    );
  };
  let announced = false;
  for (;;) {
    // Checked first so that chdb is not asked to open a directory we know is held (it prints
    // its own "Cannot lock file" line to stderr when it fails).
    const holder = embeddedLockHolder(dataDir);
    if (holder === undefined) {
      try {
        const main = createClient({
          connection: connect(),
          clickhouse_settings: pinnedSettings(config.timezone),
          log: QUIET,
        });
        const control = createClient({
          connection: connect(),
          clickhouse_settings: pinnedSettings(config.timezone),
          log: QUIET,
        });
        const record: OwnerRecord = {
          pid: process.pid,
          owner: options.owner,
          startedAt: new Date(now()).toISOString(),
        };
        writeFileSync(ownerFile(dataDir), JSON.stringify(record));
        const mainDb = wrap(main, 'embedded');
        return {
          ...mainDb,
          mode: 'embedded',
          cluster: undefined,
          control: wrap(control, 'embedded'),
          async close() {
            await control.close();
            await main.close();
            if (readOwner(dataDir)?.pid === process.pid) rmSync(ownerFile(dataDir), { force: true });
          },
        };
      } catch (error: unknown) {
        // Lost a race for the lock: another process opened it between the check and the open.
        if (embeddedLockHolder(dataDir) === undefined) {
          throw new DatabaseError(
            `cannot open the embedded ClickHouse in ${dataDir}: ${error instanceof Error ? error.message : String(error)}`,
            clickhouseCode(error),
            { cause: error },
          );
        }
      }
    }
    if (now() >= deadline) throw busy(holder ?? embeddedLockHolder(dataDir));
    if (!announced) {
      logger.info({ dataDir, holderPid: holder?.pid }, 'embedded ClickHouse is busy, waiting for it');
      announced = true;
    }
    await sleep(Math.min(250, Math.max(0, deadline - now())));
  }
}

function openServer(options: OpenDatabaseOptions): Db {
  const { config } = options;
  const ch = config.clickhouse;
  const client = createClient({
    url: ch.url,
    username: ch.user,
    password: ch.password,
    request_timeout: ch.requestTimeoutMs,
    log: QUIET,
    tls: ch.caCertPath ? { ca_cert: readFileSync(ch.caCertPath) } : undefined,
    clickhouse_settings: {
      ...pinnedSettings(config.timezone),
      // A server (unlike chdb) defaults mutations_sync to 0; cluster DDL must wait for every replica.
      ...(ch.cluster ? { alter_sync: '2', mutations_sync: '2', distributed_foreground_insert: 1 } : {}),
    },
  });
  const db = wrap(client, 'server');
  return { ...db, mode: 'server', cluster: ch.cluster, control: db, close: () => client.close() };
}

/**
 * Opens ClickHouse as configured.
 * @throws DatabaseBusyError (exit 75) when the embedded directory stays owned by another process
 *         for `CLICKHOUSE_LOCK_WAIT_MS`; DatabaseError when it cannot be opened for another reason.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Db> {
  if (options.config.clickhouse.url === undefined) return openEmbedded(options);
  const db = openServer(options);
  try {
    await db.query('SELECT 1');
  } catch (error: unknown) {
    await db.close().catch(() => undefined);
    throw error;
  }
  return db;
}

/** True when the directory already holds an embedded database (used by `etl demo` to say "reusing"). */
export function embeddedDataExists(dataDir: string): boolean {
  return existsSync(path.join(dataDir, 'metadata'));
}
