/**
 * `etl bot`: one process with the scheduler, the runners and the chat. It opens the application
 * (schema applied, start-up recovery, outbox flushed), checks the token (getMe), registers the
 * command menu, polls Telegram with grammY's runner (chats concurrently, one chat in order),
 * starts the scheduler (catching up missed slots), and on SIGTERM/SIGINT (or `signal`) stops in
 * order: polling, then the scheduler, then running jobs get BOT_SHUTDOWN_TIMEOUT_MS to finish
 * before they are aborted (recorded as cancelled), then pending chat replies, then the database.
 */
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { run, type RunnerHandle } from '@grammyjs/runner';
import { Api, GrammyError, HttpError } from 'grammy';
import type { UserFromGetMe } from 'grammy/types';
import type { Logger } from 'pino';
import type { AlertCandidate } from '../alerts/alert.js';
import { openApp, type App } from '../app/openApp.js';
import type { Config } from '../config/loadConfig.js';
import { ConfigError, EtlError, ExitCode } from '../errors.js';
import { runHealthcheck } from '../health/healthcheck.js';
import type { Notifier } from '../notify/notifier.js';
import type { Sources } from '../runner/job.js';
import { scheduleFromConfig, type ScheduledTask } from '../scheduler/schedule.js';
import { createScheduler, realTimers, type Scheduler, type Timers } from '../scheduler/scheduler.js';
import { addDays, businessDate } from '../time/dates.js';
import { createBot, registerCommandMenu } from './createBot.js';
import { retryingFetch, type BotFetch, type BotRetryPolicy } from './retryingFetch.js';
import { createRunTracker, type RunTracker } from './runTracker.js';

/** How long the shutdown waits for chat replies still being sent (Telegram slow or down), ms. */
const PENDING_REPLIES_GRACE_MS = 10_000;

/** Options of `runBot`. */
export interface RunBotOptions {
  config: Config;
  logger: Logger;
  /** Stops the bot when aborted (besides SIGTERM/SIGINT when `handleSignals`). */
  signal?: AbortSignal;
  /** Install SIGTERM/SIGINT handlers. @default true */
  handleSignals?: boolean;
  notifier?: Notifier;
  sources?: Sources;
  botInfo?: UserFromGetMe;
  fetch?: BotFetch;
  retry?: Partial<BotRetryPolicy>;
  now?: () => number;
  timers?: Timers;
  /** Called once polling runs (tests wait for it). */
  onReady?: (bot: { username: string; tracker: RunTracker; scheduler: Scheduler; app: App }) => void;
}

/** The start of a scheduled task's latest run: from `meta.etl_runs`, or the healthcheck's state file. */
async function lastStartedAt(app: App, task: ScheduledTask): Promise<Date | null> {
  if (task === 'healthcheck') {
    try {
      const at = Number(fs.readFileSync(healthcheckStateFile(app.config), 'utf8'));
      return Number.isFinite(at) && at > 0 ? new Date(at) : null;
    } catch {
      return null;
    }
  }
  const [row] = await app.db.control.query<{ at: string | null }>(
    'SELECT toString(max(started_ms)) AS at FROM meta.etl_runs WHERE job = {job:String}',
    { job: task },
  );
  const at = Number(row?.at ?? 0);
  return at > 0 ? new Date(at) : null;
}

function healthcheckStateFile(config: Config): string {
  return path.join(config.dataDir, 'bot', 'healthcheck_last_started_ms');
}

/** getMe with the configured token. @throws ConfigError when Telegram refuses it; EtlError when unreachable. */
async function fetchBotInfo(config: Config, logger: Logger, options: RunBotOptions): Promise<UserFromGetMe> {
  const api = new Api(config.telegram.botToken ?? '', {
    apiRoot: config.telegram.apiRoot.replace(/\/+$/, ''),
    fetch: retryingFetch({
      logger,
      ...(options.retry ? { policy: options.retry } : {}),
      ...(options.fetch ? { base: options.fetch } : {}),
    }) as never,
  });
  try {
    return await api.getMe();
  } catch (error: unknown) {
    if (error instanceof GrammyError && (error.error_code === 401 || error.error_code === 404)) {
      throw new ConfigError([`TG_BOT_TOKEN: Telegram refused the token (${error.description})`]);
    }
    if (error instanceof HttpError) {
      throw new EtlError(`cannot reach the Bot API at ${config.telegram.apiRoot}: ${error.message}`);
    }
    throw error;
  }
}

/**
 * Runs the bot until stopped.
 * @returns the exit code: 0 after a requested stop, 1 when polling died (e.g. another instance
 *          polls with the same token: Telegram's 409).
 * @throws ConfigError (2) when Telegram is not configured or refuses the token;
 *         DatabaseBusyError (75), DatabaseError, MigrationError from opening the application.
 */
export async function runBot(options: RunBotOptions): Promise<number> {
  const { config, logger } = options;
  const now = options.now ?? Date.now;
  if (!config.telegram.botToken) {
    throw new ConfigError(['TG_BOT_TOKEN: required by etl bot (a token from @BotFather)']);
  }
  if (config.telegram.allowedChatIds.length === 0) {
    throw new ConfigError(['TG_CHAT_ID or TG_ALLOWED_CHAT_IDS: required by etl bot (the team chat id)']);
  }
  if (config.telegram.adminUserIds.length === 0) {
    logger.warn('TG_ADMIN_USER_IDS is empty: nobody can start runs from the chat');
  }
  // The token first: a refused token must not open (or create) the database.
  const botInfo = options.botInfo ?? (await fetchBotInfo(config, logger, options));
  const app = await openApp({
    config,
    logger,
    owner: 'etl bot',
    schema: 'apply',
    ...(options.notifier ? { notifier: options.notifier } : {}),
    ...(options.sources ? { sources: options.sources } : {}),
    now,
  });
  const pending = new Set<Promise<unknown>>();
  const background = (task: Promise<unknown>): void => {
    const tracked = task
      .catch((error: unknown) =>
        logger.error({ err: error instanceof Error ? error.message : String(error) }, 'chat reply failed'),
      )
      .finally(() => pending.delete(tracked));
    pending.add(tracked);
  };
  const tracker = createRunTracker(app.runner, now);

  const scheduler = createScheduler({
    entries: scheduleFromConfig(config),
    now,
    timers: options.timers ?? realTimers,
    logger,
    catchupWindowMs: config.schedule.catchupWindowMs,
    lastStartedAt: (task) => lastStartedAt(app, task),
    async runTask(task, trigger) {
      if (task === 'healthcheck') {
        const file = healthcheckStateFile(config);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, String(now()));
        const date = addDays(businessDate(new Date(now()), config.timezone), -1);
        const report = await runHealthcheck(app.db, config, date, now());
        await app.alerter.raise(report.checks.flatMap((c) => (c.alert ? [c.alert] : [])));
        logger.info({ date, ok: report.ok, trigger }, 'scheduled healthcheck done');
        return;
      }
      await tracker.run({ job: task, trigger, actor: 'scheduler' });
    },
    async reportMissed(task, slot) {
      const candidate: AlertCandidate = {
        code: 'MISSED_RUN',
        job: task,
        dataDate: businessDate(slot, config.timezone),
        runId: null,
        signature: 'missed',
        facts: { slotAt: Math.floor(slot.getTime() / 1000) },
      };
      await app.alerter.raise([candidate]);
    },
  });

  const { bot } = createBot(
    {
      config,
      logger,
      db: app.db,
      runner: app.runner,
      tracker,
      nextRuns: () => scheduler.nextRuns(),
      now,
      background,
    },
    {
      botInfo,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.retry ? { retry: options.retry } : {}),
    },
  );

  let handle: RunnerHandle | undefined;
  let exitCode: number = ExitCode.ok;
  try {
    await bot.api.deleteWebhook();
    await registerCommandMenu(bot.api, config.telegram.language).catch((error: unknown) =>
      logger.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'command menu not registered',
      ),
    );
    handle = run(bot, {
      // silent: the runner would print polling errors with console.error; retryingFetch logs them as JSON.
      runner: { fetch: { allowed_updates: ['message', 'callback_query'] }, silent: true },
    });
    logger.info({ bot: bot.botInfo.username, chats: config.telegram.allowedChatIds }, 'bot started');

    const stopRequested = new Promise<'stop'>((resolve) => {
      const stop = () => resolve('stop');
      if (options.signal?.aborted) stop();
      options.signal?.addEventListener('abort', stop, { once: true });
      if (options.handleSignals !== false) {
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      }
    });
    void scheduler
      .start()
      .catch((error: unknown) =>
        logger.error(
          { err: error instanceof Error ? error.message : String(error) },
          'scheduler start failed',
        ),
      );
    options.onReady?.({ username: bot.botInfo.username, tracker, scheduler, app });
    const polling = handle.task() ?? Promise.resolve();
    const reason = await Promise.race([stopRequested, polling.then(() => 'polling-ended' as const)]);
    if (reason === 'polling-ended') {
      logger.error('polling stopped unexpectedly; shutting down');
      exitCode = ExitCode.failed;
    } else logger.info('stop requested; shutting down');
  } catch (error: unknown) {
    if (error instanceof EtlError) throw error;
    logger.error({ err: error instanceof Error ? error.message : String(error) }, 'bot failed');
    exitCode = ExitCode.failed;
  } finally {
    if (handle?.isRunning()) await handle.stop().catch(() => undefined);
    scheduler.stop();
    const { aborted } = await tracker.shutdown(config.bot.shutdownTimeoutMs);
    if (aborted > 0) logger.warn({ aborted }, 'running jobs aborted at shutdown; recorded as cancelled');
    // Result replies of the runs just recorded; bounded, so a Telegram outage cannot hold the stop.
    const replies = Promise.allSettled([...pending]).then(() => true);
    if (!(await Promise.race([replies, sleep(PENDING_REPLIES_GRACE_MS).then(() => false)]))) {
      logger.warn({ pending: pending.size }, 'chat replies still pending at shutdown; not waiting for them');
    }
    await app.close();
    logger.info('bot stopped');
  }
  return exitCode;
}
