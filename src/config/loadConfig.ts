/**
 * Configuration: every environment variable of the product, validated once by a pure function.
 * `.env.example` documents the same variables with units and defaults; keep the two in step.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Cron } from 'croner';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { isValidZone } from '../time/dates.js';

const str = (fallback: string) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v) => (v === undefined || v === '' ? fallback : v));
const optStr = () =>
  z
    .string()
    .trim()
    .optional()
    .transform((v) => (v === undefined || v === '' ? undefined : v));
const int = (fallback: number, min: number, max: number, unit: string) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const n = Number(v);
      if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `expected a whole number of ${unit} from ${min} to ${max}` });
        return z.NEVER;
      }
      return n;
    });
const url = (fallback: string | undefined) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      const value = v === undefined || v === '' ? fallback : v;
      if (value === undefined) return undefined;
      try {
        const u = new URL(value);
        if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('protocol');
        return value.replace(/\/+$/, '');
      } catch {
        // Never echo a password written into the URL (http://user:password@host).
        const shown = value.replace(/\/\/([^/@:\s]*):[^/@\s]*@/, '//$1:***@');
        ctx.addIssue({ code: 'custom', message: `expected an http(s) URL, got "${shown}"` });
        return z.NEVER;
      }
    });
const idList = () =>
  z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return [] as string[];
      const ids = v.split(',').map((s) => s.trim());
      if (ids.some((id) => !/^-?\d+$/.test(id))) {
        ctx.addIssue({ code: 'custom', message: 'expected comma-separated numeric Telegram ids' });
        return z.NEVER;
      }
      return ids;
    });

/** A 5-field cron expression in ETL_TIMEZONE, or `off`; null means disabled. */
const cron = (fallback: string) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      const value = v === undefined || v === '' ? fallback : v;
      if (value.toLowerCase() === 'off') return null;
      try {
        if (value.split(/\s+/).length !== 5) throw new Error('five fields');
        new Cron(value, { paused: true }).stop();
        return value;
      } catch {
        ctx.addIssue({
          code: 'custom',
          message: `expected a 5-field cron expression (minute hour day month weekday, e.g. "35 5 * * *") or off, got "${value}"`,
        });
        return z.NEVER;
      }
    });

const schema = z.object({
  CLICKHOUSE_URL: url(undefined),
  CLICKHOUSE_USER: str('default'),
  CLICKHOUSE_PASSWORD: str(''),
  CLICKHOUSE_CA_CERT: optStr().refine((p) => p === undefined || existsSync(p), {
    message: 'expected the path of a readable PEM file',
  }),
  CLICKHOUSE_CLUSTER: optStr().refine((c) => c === undefined || /^[A-Za-z0-9_{}.-]+$/.test(c), {
    message: 'expected a cluster name (letters, digits, _ . - or the {cluster} macro)',
  }),
  CLICKHOUSE_DATA_DIR: str('./data/clickhouse'),
  CLICKHOUSE_LOCK_WAIT_MS: int(30_000, 0, 3_600_000, 'milliseconds'),
  CLICKHOUSE_REQUEST_TIMEOUT_MS: int(600_000, 1_000, 86_400_000, 'milliseconds'),
  ETL_TIMEZONE: str('Europe/Moscow').refine(isValidZone, {
    message: 'expected an IANA time zone such as Europe/Moscow',
  }),
  ETL_DATA_DIR: str('./data/state'),
  ETL_JOB_TIMEOUT_MS: int(1_800_000, 1_000, 86_400_000, 'milliseconds'),
  ETL_HEARTBEAT_INTERVAL_MS: int(5_000, 100, 600_000, 'milliseconds'),
  ETL_HEARTBEAT_STALE_MS: int(120_000, 1_000, 86_400_000, 'milliseconds'),
  ETL_WINDOW_DAYS: int(3, 1, 366, 'days'),
  ETL_MAX_WINDOW_DAYS: int(366, 1, 3_660, 'days'), // ≤ max_partitions_per_insert_block (db.ts)
  ETL_BACKFILL_CHUNK_DAYS: int(7, 1, 366, 'days'),
  HTTP_TIMEOUT_MS: int(30_000, 100, 600_000, 'milliseconds'),
  HTTP_RETRIES: int(4, 0, 20, 'retries'),
  HTTP_RETRY_MIN_DELAY_MS: int(1_000, 0, 600_000, 'milliseconds'),
  VK_ADS_API_URL: url('https://ads.vk.com'),
  VK_ADS_CLIENT_ID: optStr(),
  VK_ADS_CLIENT_SECRET: optStr(),
  QTICKETS_API_URL: url('https://qtickets.ru/api/rest/v1'),
  QTICKETS_TOKEN: optStr(),
  TG_BOT_TOKEN: optStr().refine((t) => t === undefined || /^\d+:[A-Za-z0-9_-]{20,}$/.test(t), {
    message: 'expected a bot token from @BotFather (digits:letters)',
  }),
  TG_CHAT_ID: optStr().refine((c) => c === undefined || /^-?\d+$/.test(c), {
    message: 'expected a numeric chat id',
  }),
  TG_ALLOWED_CHAT_IDS: idList(),
  TG_ADMIN_USER_IDS: idList(),
  TG_API_ROOT: url('https://api.telegram.org'),
  BOT_LANGUAGE: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v === undefined || v === '' ? 'ru' : v))
    .pipe(z.enum(['ru', 'en'], { message: 'expected ru or en' })),
  TG_TOPIC_ID: optStr().refine((t) => t === undefined || /^\d+$/.test(t), {
    message: 'expected the numeric message_thread_id of a forum topic',
  }),
  ALERT_REMIND_AFTER_MS: int(21_600_000, 60_000, 604_800_000, 'milliseconds'),
  ANOMALY_BASELINE_DAYS: int(28, 7, 366, 'days'),
  ANOMALY_MIN_HISTORY_DAYS: int(14, 3, 366, 'days'),
  ANOMALY_Z_THRESHOLD: z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return 3.5;
      const n = Number(v);
      if (!/^\d+(\.\d+)?$/.test(v) || n < 1 || n > 20) {
        ctx.addIssue({ code: 'custom', message: 'expected a number from 1 to 20 (robust z-score)' });
        return z.NEVER;
      }
      return n;
    }),
  ANOMALY_MIN_CHANGE_PCT: int(30, 0, 1_000, 'percent'),
  SCHEDULE_VK_FETCH: cron('35 5 * * *'),
  SCHEDULE_QTICKETS_FETCH: cron('40 5 * * *'),
  SCHEDULE_BUILD_DM_VK: cron('50 5 * * *'),
  SCHEDULE_BUILD_DM_SALES: cron('5 6 * * *'),
  SCHEDULE_HEALTHCHECK: cron('30 6 * * *'),
  SCHEDULE_CATCHUP_WINDOW_MS: int(21_600_000, 0, 604_800_000, 'milliseconds'),
  BOT_SHUTDOWN_TIMEOUT_MS: int(60_000, 1_000, 3_600_000, 'milliseconds'),
  BOT_BACKFILL_MAX_DAYS: int(366, 1, 3_660, 'days'),
  BOT_CONVERSATION_TIMEOUT_MS: int(900_000, 10_000, 86_400_000, 'milliseconds'),
  VERSION_TAG: optStr(),
  LOG_LEVEL: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v === undefined || v === '' ? 'info' : v))
    .pipe(
      z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
        message: 'expected fatal, error, warn, info, debug, trace or silent',
      }),
    ),
});

/** Validated configuration. Units are in the names; dates and schedules are in `timezone`. */
export interface Config {
  clickhouse: {
    /** Server URL (`https://host:8443`); undefined = embedded chdb in `dataDir`. */
    url: string | undefined;
    user: string;
    password: string;
    /** Path of a PEM CA bundle for TLS (Yandex Managed ClickHouse), if any. */
    caCertPath: string | undefined;
    /** Cluster name for `ON CLUSTER` DDL and Replicated engines; undefined = single node. */
    cluster: string | undefined;
    /** Embedded data directory, absolute. */
    dataDir: string;
    /** How long to wait for another process to release the embedded data directory, ms. */
    lockWaitMs: number;
    /** Per-statement timeout against a server, ms. */
    requestTimeoutMs: number;
  };
  /** IANA zone of business dates and schedules. @default Europe/Moscow */
  timezone: string;
  /** Local state directory (token store, spool, locks), absolute. */
  dataDir: string;
  runner: {
    /** Per-run timeout, ms. @default 1_800_000 */
    jobTimeoutMs: number;
    /** How often an in-flight run refreshes its heartbeat, ms. @default 5000 */
    heartbeatIntervalMs: number;
    /** A heartbeat older than this (from another host) marks the run as interrupted, ms. @default 120000 */
    heartbeatStaleMs: number;
    /** Default window length of the daily jobs, days up to yesterday. @default 3 */
    windowDays: number;
    /** Longest window a run or backfill may take, days. @default 366 */
    maxWindowDays: number;
    /** Days per backfill step. @default 7 */
    backfillChunkDays: number;
  };
  http: { timeoutMs: number; retries: number; retryMinDelayMs: number };
  vkAds: { apiUrl: string; clientId: string | undefined; clientSecret: string | undefined };
  qtickets: { apiUrl: string; token: string | undefined };
  telegram: {
    botToken: string | undefined;
    chatId: string | undefined;
    allowedChatIds: string[];
    adminUserIds: string[];
    apiRoot: string;
    language: 'ru' | 'en';
    /** Forum topic (message_thread_id) for alerts, if the chat is a forum. */
    topicId: number | undefined;
  };
  bot: {
    /** On SIGTERM/SIGINT, running jobs get this long to finish before they are aborted, ms. @default 60_000 */
    shutdownTimeoutMs: number;
    /** Longest /backfill range, days. @default 366 */
    backfillMaxDays: number;
    /** A chat dialog (/backfill, /run confirmation) idle for this long is abandoned, ms. @default 900_000 */
    conversationTimeoutMs: number;
  };
  alerts: {
    /** An open alert that keeps recurring is told again after this long, ms. @default 21_600_000 (6 h) */
    remindAfterMs: number;
    /** Trailing days the anomaly baseline (median, MAD) is computed over. @default 28 */
    baselineDays: number;
    /** Days of history a baseline needs before an anomaly may fire (two weeks cover the weekly rhythm). @default 14 */
    minHistoryDays: number;
    /** Robust z-score (0.6745·|x − median| / MAD) beyond which a day is anomalous. @default 3.5 */
    zThreshold: number;
    /** Smallest change against the median that counts, percent of the median. @default 30 */
    minChangePct: number;
  };
  schedule: {
    /** Cron expression (ETL_TIMEZONE) per scheduled task; null = disabled. */
    cron: Record<
      'vk_fetch' | 'qtickets_fetch' | 'build_dm_vk' | 'build_dm_sales' | 'healthcheck',
      string | null
    >;
    /** Slots missed while the bot was down are caught up once at start if no older than this, ms. @default 21_600_000 */
    catchupWindowMs: number;
  };
  versionTag: string | undefined;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

/**
 * Parses and validates the environment. Pure: reads nothing but `env` (relative paths resolve
 * against `cwd`).
 * @throws ConfigError listing every bad variable and what it expects.
 */
export function loadConfig(env: Record<string, string | undefined>, cwd: string = process.cwd()): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = issue.path.join('.');
      const value = env[name];
      const secret = /TOKEN|SECRET|PASSWORD/.test(name);
      const shown = value === undefined || secret ? '' : ` (got "${value}")`;
      return `${name}: ${issue.message}${issue.message.includes('got "') ? '' : shown}`;
    });
    throw new ConfigError(problems);
  }
  const e = parsed.data;
  const allowed =
    e.TG_ALLOWED_CHAT_IDS.length > 0 ? e.TG_ALLOWED_CHAT_IDS : e.TG_CHAT_ID ? [e.TG_CHAT_ID] : [];
  return {
    clickhouse: {
      url: e.CLICKHOUSE_URL,
      user: e.CLICKHOUSE_USER,
      password: e.CLICKHOUSE_PASSWORD,
      caCertPath: e.CLICKHOUSE_CA_CERT,
      cluster: e.CLICKHOUSE_CLUSTER,
      dataDir: path.resolve(cwd, e.CLICKHOUSE_DATA_DIR),
      lockWaitMs: e.CLICKHOUSE_LOCK_WAIT_MS,
      requestTimeoutMs: e.CLICKHOUSE_REQUEST_TIMEOUT_MS,
    },
    timezone: e.ETL_TIMEZONE,
    dataDir: path.resolve(cwd, e.ETL_DATA_DIR),
    runner: {
      jobTimeoutMs: e.ETL_JOB_TIMEOUT_MS,
      heartbeatIntervalMs: e.ETL_HEARTBEAT_INTERVAL_MS,
      heartbeatStaleMs: e.ETL_HEARTBEAT_STALE_MS,
      windowDays: e.ETL_WINDOW_DAYS,
      maxWindowDays: e.ETL_MAX_WINDOW_DAYS,
      backfillChunkDays: e.ETL_BACKFILL_CHUNK_DAYS,
    },
    http: {
      timeoutMs: e.HTTP_TIMEOUT_MS,
      retries: e.HTTP_RETRIES,
      retryMinDelayMs: e.HTTP_RETRY_MIN_DELAY_MS,
    },
    vkAds: {
      apiUrl: e.VK_ADS_API_URL as string,
      clientId: e.VK_ADS_CLIENT_ID,
      clientSecret: e.VK_ADS_CLIENT_SECRET,
    },
    qtickets: { apiUrl: e.QTICKETS_API_URL as string, token: e.QTICKETS_TOKEN },
    telegram: {
      botToken: e.TG_BOT_TOKEN,
      chatId: e.TG_CHAT_ID,
      allowedChatIds: allowed,
      adminUserIds: e.TG_ADMIN_USER_IDS,
      apiRoot: e.TG_API_ROOT as string,
      language: e.BOT_LANGUAGE,
      topicId: e.TG_TOPIC_ID === undefined ? undefined : Number(e.TG_TOPIC_ID),
    },
    bot: {
      shutdownTimeoutMs: e.BOT_SHUTDOWN_TIMEOUT_MS,
      backfillMaxDays: e.BOT_BACKFILL_MAX_DAYS,
      conversationTimeoutMs: e.BOT_CONVERSATION_TIMEOUT_MS,
    },
    alerts: {
      remindAfterMs: e.ALERT_REMIND_AFTER_MS,
      baselineDays: e.ANOMALY_BASELINE_DAYS,
      minHistoryDays: e.ANOMALY_MIN_HISTORY_DAYS,
      zThreshold: e.ANOMALY_Z_THRESHOLD,
      minChangePct: e.ANOMALY_MIN_CHANGE_PCT,
    },
    schedule: {
      cron: {
        vk_fetch: e.SCHEDULE_VK_FETCH,
        qtickets_fetch: e.SCHEDULE_QTICKETS_FETCH,
        build_dm_vk: e.SCHEDULE_BUILD_DM_VK,
        build_dm_sales: e.SCHEDULE_BUILD_DM_SALES,
        healthcheck: e.SCHEDULE_HEALTHCHECK,
      },
      catchupWindowMs: e.SCHEDULE_CATCHUP_WINDOW_MS,
    },
    versionTag: e.VERSION_TAG,
    logLevel: e.LOG_LEVEL,
  };
}

/** Every secret value in the config, for scrubbing logs and error messages. */
export function configSecrets(config: Config): string[] {
  return [
    config.clickhouse.password,
    config.vkAds.clientSecret,
    config.qtickets.token,
    config.telegram.botToken,
  ].filter((s): s is string => typeof s === 'string' && s.length > 0);
}
