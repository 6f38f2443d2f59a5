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
import { configSecrets, type Config } from '../config/loadConfig.js';
import { createScrubber, describeError } from '../util/scrub.js';
import { ConfigError, EtlError, ExitCode, SHUTDOWN_REASON, UsageError } from '../errors.js';
import { errorSignature } from '../alerts/alert.js';
import { JOBS } from '../../jobs/index.js';
import { STEP_JOBS } from '../runner/job.js';
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
    // Finished runs, and runs still going (their heartbeat): a run longer than the grace period
    // has taken its slot even before its row is written.
    `SELECT toString(greatest(
       (SELECT max(started_ms) FROM meta.etl_runs
        WHERE job = {job:String} AND NOT (status = 'error' AND startsWith(err_msg, {cancelled:String}))),
       (SELECT toUInt64(max(toUnixTimestamp(started_at))) * 1000 FROM meta.etl_heartbeats FINAL
        WHERE job = {job:String} AND state = 'running'))) AS at`,
    // A run the bot aborted when it stopped did not take its slot: the restart catches it up.
    { job: task, cancelled: `${task} was cancelled: ${SHUTDOWN_REASON}` },
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
 * @returns 0 after a requested stop (everything shut down in order).
 * @throws ConfigError (2) when Telegram is not configured or refuses the token;
 *         DatabaseBusyError (75), DatabaseError, MigrationError from opening the application;
 *         EtlError (1) when polling died, e.g. another instance polls the same token (Telegram's
 *         409) — after the same orderly shutdown.
 */
export async function runBot(options: RunBotOptions): Promise<number> {
  const { config, logger } = options;
  const now = options.now ?? Date.now;
  const scrub = createScrubber(configSecrets(config));
  const problems = [
    ...(config.telegram.botToken ? [] : ['TG_BOT_TOKEN: required by etl bot (a token from @BotFather)']),
    ...(config.telegram.allowedChatIds.length > 0
      ? []
      : ['TG_CHAT_ID or TG_ALLOWED_CHAT_IDS: required by etl bot (the team chat id)']),
  ];
  if (problems.length > 0) throw new ConfigError(problems);
  if (config.telegram.adminUserIds.length === 0) {
    logger.warn('TG_ADMIN_USER_IDS is empty: nobody can start runs from the chat');
  }
  // Scheduled jobs that cannot run with this configuration: say so now, not at 05:35.
  for (const entry of scheduleFromConfig(config)) {
    if (entry.cron === null || entry.task === 'healthcheck') continue;
    const missing = JOBS[entry.task].missingConfig(config, { jobs: STEP_JOBS, chunkDays: 1 });
    if (missing.length > 0) {
      logger.warn({ task: entry.task, missing }, 'a scheduled job cannot run with this configuration');
    }
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
      .catch((error: unknown) => logger.error({ err: describeError(error, scrub) }, 'chat reply failed'))
      .finally(() => pending.delete(tracked));
    pending.add(tracked);
  };
  const tracker = createRunTracker(app.runner, now);
  /** When each scheduled task was last refused at start (unix ms). */
  const startRefused = new Map<ScheduledTask, number>();

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
      try {
        await tracker.run({ job: task, trigger, actor: 'scheduler' });
      } catch (error: unknown) {
        if (!(error instanceof ConfigError || error instanceof UsageError)) throw error;
        // The slot's job cannot start (missing credentials, a refused window): tell it now, as a
        // failure with its reason, instead of a bare MISSED_RUN a quarter of an hour later.
        startRefused.set(task, now());
        const message = describeError(error, scrub);
        await app.alerter.raise([
          {
            code: 'RUN_FAILED',
            job: task,
            dataDate: addDays(businessDate(new Date(now()), config.timezone), -1),
            runId: null,
            signature: errorSignature(message),
            facts: { errMsg: `the scheduled run could not start: ${message}` },
          },
        ]);
        throw error;
      }
    },
    async reportMissed(task, slot) {
      // Refused at this slot and already told as RUN_FAILED with the reason.
      if ((startRefused.get(task) ?? 0) >= slot.getTime()) return;
      const candidate: AlertCandidate = {
        code: 'MISSED_RUN',
        job: task,
        dataDate: addDays(businessDate(slot, config.timezone), -1),
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
  let failure: EtlError | undefined;
  try {
    await bot.api.deleteWebhook();
    await registerCommandMenu(bot.api, config.telegram.language).catch((error: unknown) =>
      logger.warn({ err: describeError(error, scrub) }, 'command menu not registered'),
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
        logger.error({ err: describeError(error, scrub) }, 'scheduler start failed'),
      );
    options.onReady?.({ username: bot.botInfo.username, tracker, scheduler, app });
    const polling = handle.task() ?? Promise.resolve();
    const reason = await Promise.race([stopRequested, polling.then(() => 'polling-ended' as const)]);
    if (reason === 'polling-ended') failure = new EtlError('polling Telegram stopped unexpectedly');
    else logger.info('stop requested; shutting down');
  } catch (error: unknown) {
    failure =
      error instanceof EtlError
        ? error
        : error instanceof GrammyError && error.error_code === 409
          ? new EtlError(
              'another bot polls Telegram with this token (409 Conflict): only one etl bot may run per TG_BOT_TOKEN; stop the other one',
            )
          : new EtlError(`the bot stopped on an error: ${describeError(error, scrub)}`);
    logger.error({ err: failure.message }, 'bot failed; shutting down');
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
  if (failure) throw failure;
  return ExitCode.ok;
}
