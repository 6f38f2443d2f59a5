/**
 * `etl doctor`: checks a setup end to end and says what is wrong and how to fix it — the local
 * state directory, ClickHouse (reachable, schema up to date, the privileges the ETL uses), the
 * Telegram token and chats, the upstream credentials, and the schedule. Something not configured
 * is reported as skipped (with what it disables), not as a failure: a demo setup without Telegram
 * or upstream credentials is healthy.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Api, GrammyError, HttpError } from 'grammy';
import type { Logger } from 'pino';
import type { Config } from '../config/loadConfig.js';
import { configSecrets } from '../config/loadConfig.js';
import { embeddedDataExists, openDatabase, type Db } from '../clickhouse/db.js';
import { pendingMigrations } from '../clickhouse/migrate.js';
import { createSources } from '../app/sources.js';
import { nextFireTimes, scheduleFromConfig } from '../scheduler/schedule.js';
import { cronToOnCalendar } from '../scheduler/systemdCalendar.js';
import { formatInstant } from '../time/dates.js';
import { createScrubber, describeError } from '../util/scrub.js';
import { DM_SALES_DAILY, DM_VK_ADS_DAILY, STG_QTICKETS_SALES, STG_VK_ADS_DAILY } from '../marts/tables.js';
import type { BotFetch } from '../bot/index.js';

/** How a check ended: `skip` = not configured (does not fail the doctor). */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

/** One finding. */
export interface DoctorCheck {
  /** What part of the setup: `state`, `clickhouse`, `schema`, `grants`, `telegram`, `vk_ads`, `qtickets`, `schedule`. */
  area: string;
  status: CheckStatus;
  /** What was found, one line. */
  detail: string;
  /** How to fix it (for `fail` and `warn`). */
  fix?: string;
}

/** Options of `runDoctor`. */
export interface DoctorOptions {
  config: Config;
  logger: Logger;
  /** The Bot API HTTP client (tests). @default grammY's own */
  telegramFetch?: BotFetch;
  signal?: AbortSignal;
}

/** The tables the jobs write, and `meta` tables the runner writes. */
const WRITTEN_TABLES = [
  'meta.etl_runs',
  'meta.etl_alerts',
  'meta.etl_heartbeats',
  STG_VK_ADS_DAILY.table,
  STG_QTICKETS_SALES.table,
  DM_VK_ADS_DAILY.table,
  DM_SALES_DAILY.table,
];

/**
 * Runs every check. Never throws for a broken setup (that is a `fail` finding).
 * @returns the findings in order; the doctor passes when none is `fail`.
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorCheck[]> {
  const { config } = options;
  const scrub = createScrubber(configSecrets(config));
  const why = (error: unknown) => describeError(error, scrub);
  const checks: DoctorCheck[] = [];

  checks.push(checkStateDir(config));

  // ClickHouse, schema and privileges.
  let db: Db | undefined;
  const where =
    config.clickhouse.url === undefined
      ? `embedded ClickHouse in ${config.clickhouse.dataDir}`
      : `ClickHouse at ${new URL(config.clickhouse.url).host}`;
  if (config.clickhouse.url === undefined && !embeddedDataExists(config.clickhouse.dataDir)) {
    checks.push({
      area: 'clickhouse',
      status: 'fail',
      detail: `there is no database in ${config.clickhouse.dataDir}`,
      fix: 'run "etl migrate" to create it there, or fix CLICKHOUSE_DATA_DIR',
    });
  } else {
    try {
      db = await openDatabase({ config, logger: options.logger, owner: 'etl doctor' });
      const [row] = await db.query<{ v: string }>('SELECT version() AS v');
      checks.push({ area: 'clickhouse', status: 'ok', detail: `${where}, version ${row?.v ?? '?'}` });
    } catch (error: unknown) {
      checks.push({
        area: 'clickhouse',
        status: 'fail',
        detail: `${where}: ${why(error)}`,
        fix:
          config.clickhouse.url === undefined
            ? 'stop the process that holds the data directory (etl bot, a running job) or wait for it'
            : 'check CLICKHOUSE_URL (scheme, host, port), CLICKHOUSE_USER/CLICKHOUSE_PASSWORD, CLICKHOUSE_CA_CERT and the network path to the server',
      });
    }
  }
  if (db) {
    try {
      const pending = await pendingMigrations(db);
      checks.push(
        pending.length === 0
          ? { area: 'schema', status: 'ok', detail: 'every migration is applied' }
          : {
              area: 'schema',
              status: 'fail',
              detail: `${pending.length} migration(s) pending: ${pending.join(', ')}`,
              fix: 'run "etl migrate"',
            },
      );
      if (pending.length === 0) checks.push(...(await checkPrivileges(db, why)));
    } finally {
      await db.close().catch(() => undefined);
    }
  }

  checks.push(...(await checkTelegram(config, why, options.telegramFetch)));
  checks.push(...(await checkUpstreams(config, options, why)));

  checks.push(...checkSchedule(config));
  return checks;
}

/** Each task's schedule: it fires within a year, and systemd timers can express it too. */
function checkSchedule(config: Config): DoctorCheck[] {
  const now = new Date();
  return scheduleFromConfig(config).map((entry): DoctorCheck => {
    const variable = `SCHEDULE_${entry.task.toUpperCase()}`;
    if (entry.cron === null) return { area: 'schedule', status: 'ok', detail: `${entry.task}: off` };
    const [next] = nextFireTimes(entry, now, 1);
    if (!next || next.getTime() - now.getTime() > 366 * 86_400_000) {
      return {
        area: 'schedule',
        status: 'fail',
        detail: `${entry.task}: "${entry.cron}" never fires (e.g. a day that does not exist)`,
        fix: `fix ${variable}, or set it to off`,
      };
    }
    const detail = `${entry.task}: "${entry.cron}" (${config.timezone}), next ${formatInstant(next.getTime() / 1000, config.timezone)}`;
    try {
      cronToOnCalendar(entry.cron, entry.timezone);
      return { area: 'schedule', status: 'ok', detail };
    } catch (error: unknown) {
      return {
        area: 'schedule',
        status: 'warn',
        detail: `${detail}; systemd timers cannot express it: ${error instanceof Error ? error.message : String(error)}`,
        fix: `the bot runs it, but "etl systemd render" refuses it; if you use the timers, simplify ${variable}`,
      };
    }
  });
}

function checkStateDir(config: Config): DoctorCheck {
  const probe = path.join(config.dataDir, `.doctor-${process.pid}`);
  try {
    fs.mkdirSync(config.dataDir, { recursive: true });
    fs.writeFileSync(probe, 'ok');
    fs.rmSync(probe);
    return { area: 'state', status: 'ok', detail: `ETL_DATA_DIR ${config.dataDir} is writable` };
  } catch (error: unknown) {
    return {
      area: 'state',
      status: 'fail',
      detail: `ETL_DATA_DIR ${config.dataDir} is not writable: ${error instanceof Error ? error.message : String(error)}`,
      fix: 'point ETL_DATA_DIR at a directory the ETL user owns (systemd: StateDirectory=zakaz-etl)',
    };
  }
}

/**
 * The privileges the jobs use, proven by doing: read and (zero-row) insert into every table the
 * ETL writes, and create, fill, swap a partition of and drop a scratch table in `zakaz` (the
 * window replacement's tmp table pattern).
 */
async function checkPrivileges(db: Db, why: (e: unknown) => string): Promise<DoctorCheck[]> {
  const missing: string[] = [];
  for (const table of WRITTEN_TABLES) {
    try {
      await db.query(`SELECT 1 FROM ${table} LIMIT 0`);
    } catch (error: unknown) {
      missing.push(`SELECT on ${table} (${why(error)})`);
    }
    try {
      await db.command(`INSERT INTO ${table} SELECT * FROM ${table} WHERE 0`);
    } catch (error: unknown) {
      missing.push(`INSERT on ${table} (${why(error)})`);
    }
  }
  const a = `zakaz.etl_doctor_probe_${process.pid}_a`;
  const b = `zakaz.etl_doctor_probe_${process.pid}_b`;
  const steps: Array<[string, string]> = [
    ['CREATE TABLE', `CREATE TABLE ${a} (d Date, n UInt8) ENGINE = MergeTree PARTITION BY d ORDER BY d`],
    ['CREATE TABLE', `CREATE TABLE ${b} AS ${a}`],
    ['INSERT', `INSERT INTO ${b} VALUES ('2000-01-01', 1)`],
    ['ALTER … REPLACE PARTITION', `ALTER TABLE ${a} REPLACE PARTITION '2000-01-01' FROM ${b}`],
    ['ALTER … DROP PARTITION', `ALTER TABLE ${a} DROP PARTITION '2000-01-01'`],
  ];
  try {
    for (const [privilege, sql] of steps) {
      try {
        await db.command(sql);
      } catch (error: unknown) {
        missing.push(`${privilege} in zakaz (${why(error)})`);
        break;
      }
    }
  } finally {
    for (const table of [a, b]) {
      try {
        await db.command(`DROP TABLE IF EXISTS ${table}`);
      } catch (error: unknown) {
        missing.push(`DROP TABLE in zakaz (${why(error)})`);
      }
    }
  }
  if (missing.length === 0) {
    return [
      {
        area: 'grants',
        status: 'ok',
        detail: `SELECT and INSERT on ${WRITTEN_TABLES.length} tables; CREATE, ALTER (partitions) and DROP TABLE in zakaz`,
      },
    ];
  }
  return missing.map((m) => ({
    area: 'grants',
    status: 'fail' as const,
    detail: `missing: ${m}`,
    fix: 'GRANT SELECT, INSERT, ALTER, CREATE TABLE, DROP TABLE ON zakaz.* and SELECT, INSERT, ALTER, CREATE TABLE ON meta.* TO <the ETL user> (see docs/RUNBOOK.md)',
  }));
}

async function checkTelegram(
  config: Config,
  why: (e: unknown) => string,
  fetch: BotFetch | undefined,
): Promise<DoctorCheck[]> {
  const { botToken, chatId, allowedChatIds, adminUserIds, apiRoot } = config.telegram;
  if (!botToken) {
    return [
      {
        area: 'telegram',
        status: 'skip',
        detail: 'TG_BOT_TOKEN is not set: alerts are printed to the terminal and etl bot cannot start',
        fix: 'set TG_BOT_TOKEN (from @BotFather) and TG_CHAT_ID to send alerts to the team chat',
      },
    ];
  }
  const api = new Api(botToken, {
    apiRoot: apiRoot.replace(/\/+$/, ''),
    ...(fetch ? { fetch: fetch as never } : {}),
  });
  const out: DoctorCheck[] = [];
  try {
    const me = await api.getMe();
    out.push({ area: 'telegram', status: 'ok', detail: `token ok: the bot is @${me.username}` });
  } catch (error: unknown) {
    const refused = error instanceof GrammyError && (error.error_code === 401 || error.error_code === 404);
    return [
      {
        area: 'telegram',
        status: 'fail',
        detail: refused
          ? `Telegram refused TG_BOT_TOKEN (${error.description})`
          : `cannot reach the Bot API at ${apiRoot}: ${error instanceof HttpError ? error.message : why(error)}`,
        fix: refused
          ? 'copy the token again from @BotFather (/mybots → API Token)'
          : 'check the network path to api.telegram.org (or TG_API_ROOT)',
      },
    ];
  }
  const chats = [...new Set([...(chatId ? [chatId] : []), ...allowedChatIds])];
  if (chats.length === 0) {
    out.push({
      area: 'telegram',
      status: 'fail',
      detail: 'TG_CHAT_ID is not set: alerts have nowhere to go and etl bot cannot start',
      fix: 'set TG_CHAT_ID to the team chat id (README: Run the bot)',
    });
  }
  for (const id of chats) {
    try {
      const chat = await api.getChat(id);
      const title = 'title' in chat && chat.title ? chat.title : chat.type;
      out.push({ area: 'telegram', status: 'ok', detail: `chat ${id} reachable: "${title}" (${chat.type})` });
    } catch (error: unknown) {
      out.push({
        area: 'telegram',
        status: 'fail',
        detail: `chat ${id}: ${error instanceof GrammyError ? error.description : why(error)}`,
        fix: 'add the bot to the chat, and check the id (groups are negative; a group upgraded to a supergroup gets a new -100… id)',
      });
    }
  }
  if (adminUserIds.length === 0) {
    out.push({
      area: 'telegram',
      status: 'warn',
      detail: 'TG_ADMIN_USER_IDS is empty: nobody can start runs or backfills from the chat',
      fix: 'list the Telegram user ids of the admins in TG_ADMIN_USER_IDS',
    });
  }
  return out;
}

async function checkUpstreams(
  config: Config,
  options: DoctorOptions,
  why: (e: unknown) => string,
): Promise<DoctorCheck[]> {
  const sources = createSources(config, options.logger);
  const out: DoctorCheck[] = [];
  if (!config.vkAds.clientId || !config.vkAds.clientSecret) {
    out.push({
      area: 'vk_ads',
      status: 'skip',
      detail: 'VK_ADS_CLIENT_ID / VK_ADS_CLIENT_SECRET not set: vk_fetch cannot run',
    });
  } else {
    try {
      out.push({ area: 'vk_ads', status: 'ok', detail: await sources.vkAds().checkAccess(options.signal) });
    } catch (error: unknown) {
      out.push({
        area: 'vk_ads',
        status: 'fail',
        detail: why(error),
        fix: 'check VK_ADS_CLIENT_ID / VK_ADS_CLIENT_SECRET (ads.vk.com → Settings → API access) and VK_ADS_API_URL',
      });
    }
  }
  if (!config.qtickets.token) {
    out.push({
      area: 'qtickets',
      status: 'skip',
      detail: 'QTICKETS_TOKEN not set: qtickets_fetch cannot run',
    });
  } else {
    try {
      out.push({
        area: 'qtickets',
        status: 'ok',
        detail: await sources.qtickets().checkAccess(options.signal),
      });
    } catch (error: unknown) {
      out.push({
        area: 'qtickets',
        status: 'fail',
        detail: why(error),
        fix: 'check QTICKETS_TOKEN (QTickets → Settings → REST API) and QTICKETS_API_URL',
      });
    }
  }
  return out;
}
