/**
 * The runner: the one place where a job becomes a run. For every trigger (CLI, schedule, chat,
 * CI) it validates the request, takes the job's cross-process lock, keeps a heartbeat, enforces
 * the per-job timeout, and records exactly one row in `meta.etl_runs` — in the local spool when
 * ClickHouse cannot take it at that moment.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Logger } from 'pino';
import { configSecrets, type Config } from '../config/loadConfig.js';
import type { Db } from '../clickhouse/db.js';
import { ConfigError, JobCancelledError, JobTimeoutError, UsageError } from '../errors.js';
import { businessDate, resolveWindow, trailingWindow, windowDays, type DateWindow } from '../time/dates.js';
import { createScrubber, describeError } from '../util/scrub.js';
import { JOBS } from '../../jobs/index.js';
import { startHeartbeat, type HeartbeatRun } from './heartbeat.js';
import {
  STEP_JOBS,
  isJobName,
  type BackfillOptions,
  type JobContext,
  type JobName,
  type Sources,
} from './job.js';
import { acquireJobLock, type HeldLock } from './jobLock.js';
import { processIdentity } from './processIdentity.js';
import { writeRun } from './registry.js';
import type { RunRecord, Trigger } from './runRecord.js';
import { spoolRun } from './spool.js';

/** A request to run one job. */
export interface RunRequest {
  job: string;
  /** `--from/--to` as typed (validated here); missing ends take the default window. */
  window?: { from?: string | undefined; to?: string | undefined };
  trigger: Trigger;
  /** Who asked: Telegram `id:username`, `$USER`, CI actor. */
  actor?: string;
  parentRunId?: string;
  /** Hard cancellation (shutdown): aborts I/O, the run ends as error. */
  signal?: AbortSignal;
  /** Wait this long for the job's lock before giving up with exit 75, ms. @default 0 */
  lockWaitMs?: number;
  /** backfill_all only. */
  backfill?: Partial<BackfillOptions>;
  /**
   * Called once the run really starts (the request is valid, the job's lock is held, the
   * heartbeat is written), before the job does any work. Not called when `run` throws first.
   */
  onStarted?: (started: { runId: string; window: DateWindow }) => void;
  /**
   * The job's lock, when the caller took it before opening the database (the CLI does, so a
   * second `etl run` of the same job is refused at once instead of queueing on the embedded
   * database). Released by the runner. Take it with `runner.lockJob`.
   */
  lock?: HeldLock;
}

/** Called after every run is recorded (alerts hook); a throwing listener is logged, never fatal. */
export type RunListener = (record: RunRecord) => Promise<void> | void;

/** Dependencies of the runner. */
export interface RunnerDeps {
  config: Config;
  db: Db;
  sources: Sources;
  logger: Logger;
  versionTag: string;
  /** ms since epoch. @default Date.now */
  now?: () => number;
  /** @default os.hostname() */
  host?: string;
  listeners?: RunListener[];
}

/** The runner API. */
export interface Runner {
  /**
   * Runs a job and records it.
   * @returns the recorded run (status ok or error).
   * @throws UsageError (unknown job, bad window) or ConfigError (missing credentials): nothing recorded;
   *         JobBusyError when the job is running elsewhere on this host: nothing recorded.
   */
  run(request: RunRequest): Promise<RunRecord>;
  /**
   * Resolves the window a request would run on, without running it (`jobs`: a backfill's step
   * jobs, which decide the upstream horizons that apply). @throws UsageError
   */
  planWindow(job: JobName, window: RunRequest['window'], jobs?: BackfillOptions['jobs']): DateWindow;
}

/**
 * Takes a job's lock outside a runner (before the database is open).
 * @throws JobBusyError (exit 75) when another process runs the job.
 */
export function lockJob(options: {
  config: Config;
  job: JobName;
  trigger: Trigger;
  logger: Logger;
  waitMs?: number;
  now?: () => number;
  host?: string;
}): Promise<HeldLock> {
  return acquireJobLock({
    stateDir: options.config.dataDir,
    job: options.job,
    owner: {
      pid: process.pid,
      identity: processIdentity(process.pid),
      host: options.host ?? os.hostname(),
      runId: '',
      trigger: options.trigger,
      startedAt: Math.floor((options.now ?? Date.now)() / 1000),
    },
    timezone: options.config.timezone,
    waitMs: options.waitMs ?? 0,
    logger: options.logger,
  });
}

/** Step jobs wait this long for a lock held by another trigger (e.g. a timer) before failing. */
const STEP_LOCK_WAIT_MS = 10 * 60_000;

/**
 * The window a run of `job` would take: `--from/--to` as given, missing ends from the default
 * window (the last ETL_WINDOW_DAYS MSK days up to yesterday, relative to `nowMs`).
 * @throws UsageError for impossible dates, a reversed, too long or future window, or a backfill without both ends.
 */
export function planRunWindow(
  config: Config,
  job: JobName,
  input: RunRequest['window'],
  nowMs: number,
  backfill: Pick<BackfillOptions, 'jobs'> = { jobs: STEP_JOBS },
): DateWindow {
  if (job === 'backfill_all' && (input?.from === undefined || input.to === undefined)) {
    throw new UsageError('backfill_all needs both --from and --to (YYYY-MM-DD)');
  }
  const fallback = trailingWindow(new Date(nowMs), config.timezone, config.runner.windowDays);
  const window = resolveWindow(input ?? {}, fallback, config.runner.maxWindowDays);
  const today = businessDate(new Date(nowMs), config.timezone);
  if (window.toDate > today) {
    throw new UsageError(
      `the window ${window.fromDate}..${window.toDate} reaches into the future (today is ${today} in ${config.timezone})`,
    );
  }
  const refusal = JOBS[job].refuseWindow?.(window, today, { chunkDays: 1, ...backfill });
  if (refusal !== undefined) throw new UsageError(refusal);
  return window;
}

/** Creates a runner. */
export function createRunner(deps: RunnerDeps): Runner {
  const { config, db, sources, versionTag } = deps;
  const now = deps.now ?? Date.now;
  const host = deps.host ?? os.hostname();
  const scrub = createScrubber(configSecrets(config));

  const planWindow = (
    job: JobName,
    input: RunRequest['window'],
    jobs: BackfillOptions['jobs'] = STEP_JOBS,
  ): DateWindow => planRunWindow(config, job, input, now(), { jobs });

  async function run(request: RunRequest): Promise<RunRecord> {
    if (!isJobName(request.job)) {
      throw new UsageError(`unknown job "${request.job}"; jobs: ${Object.keys(JOBS).join(', ')}`);
    }
    const job = JOBS[request.job];
    const backfill: BackfillOptions = {
      jobs: request.backfill?.jobs ?? STEP_JOBS,
      chunkDays: request.backfill?.chunkDays ?? config.runner.backfillChunkDays,
      stopAfterStep: request.backfill?.stopAfterStep,
      onProgress: request.backfill?.onProgress,
    };
    const window = planRunWindow(config, job.name, request.window, now(), backfill);
    const missing = job.missingConfig(config, backfill);
    if (missing.length > 0) throw new ConfigError(missing);

    const runId = randomUUID();
    const startedMs = now();
    const startedAt = Math.floor(startedMs / 1000);
    const actor = request.actor ?? '';
    const logger = deps.logger.child({ job: job.name, runId, trigger: request.trigger });
    const lock =
      request.lock ??
      (await acquireJobLock({
        stateDir: config.dataDir,
        job: job.name,
        owner: {
          pid: process.pid,
          identity: processIdentity(process.pid),
          host,
          runId,
          trigger: request.trigger,
          startedAt,
        },
        timezone: config.timezone,
        waitMs: request.lockWaitMs ?? 0,
        logger,
      }));
    const hbRun: HeartbeatRun = {
      runId,
      job: job.name,
      startedAt,
      fromDate: window.fromDate,
      toDate: window.toDate,
      host,
      pid: process.pid,
      versionTag,
      trigger: request.trigger,
      actor,
      parentRunId: request.parentRunId ?? null,
      procIdentity: processIdentity(process.pid),
    };
    try {
      const heartbeat = await startHeartbeat({
        db: db.control,
        run: hbRun,
        intervalMs: config.runner.heartbeatIntervalMs,
        now,
        logger,
      });
      request.onStarted?.({ runId, window });
      const timeoutMs =
        job.name === 'backfill_all'
          ? config.runner.jobTimeoutMs *
            Math.max(1, backfill.jobs.length) *
            Math.ceil(windowDays(window) / backfill.chunkDays)
          : config.runner.jobTimeoutMs;
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(new JobTimeoutError(job.name, timeoutMs)), timeoutMs);
      timer.unref();
      const signal = request.signal ? AbortSignal.any([request.signal, timeout.signal]) : timeout.signal;
      logger.info({ fromDate: window.fromDate, toDate: window.toDate }, 'run started');

      let status: 'ok' | 'error' = 'ok';
      let errMsg = '';
      let errDetail: string | undefined;
      let rowsRead = 0;
      let rowsWritten = 0;
      const ctx: JobContext = {
        runId,
        window,
        config,
        db,
        sources,
        logger,
        signal,
        backfill,
        runStep: (step, stepWindow) =>
          run({
            job: step,
            window: { from: stepWindow.fromDate, to: stepWindow.toDate },
            trigger: request.trigger,
            actor,
            parentRunId: runId,
            signal,
            lockWaitMs: STEP_LOCK_WAIT_MS,
          }),
      };
      try {
        const outcome = await job.run(ctx);
        signal.throwIfAborted();
        rowsRead = outcome.rowsRead;
        rowsWritten = outcome.rowsWritten;
      } catch (error: unknown) {
        status = 'error';
        const cause: unknown = timeout.signal.aborted
          ? timeout.signal.reason
          : request.signal?.aborted
            ? new JobCancelledError(job.name, describeError(request.signal.reason, scrub))
            : error;
        errMsg = describeError(cause, scrub);
        errDetail = describeError(cause, scrub, 20_000);
        logger.error({ err: errMsg }, 'run failed');
      } finally {
        clearTimeout(timer);
      }
      const finishedMs = now();
      const record: RunRecord = {
        job: job.name,
        runId,
        startedAt,
        finishedAt: Math.floor(finishedMs / 1000),
        status,
        rowsWritten,
        rowsRead,
        errMsg,
        fromDate: window.fromDate,
        toDate: window.toDate,
        host,
        versionTag,
        trigger: request.trigger,
        actor,
        parentRunId: request.parentRunId ?? null,
        durationMs: finishedMs - startedMs,
        pid: process.pid,
        startedAtMs: startedMs,
        ...(errDetail === undefined ? {} : { errDetail }),
      };
      try {
        await writeRun(db.control, record);
      } catch (error: unknown) {
        const file = spoolRun(config.dataDir, record);
        logger.warn(
          { err: describeError(error, scrub), file },
          'run record spooled: ClickHouse did not take it; it is written on the next start',
        );
      }
      await heartbeat.stop();
      logger.info({ status, rowsRead, rowsWritten, durationMs: record.durationMs }, 'run finished');
      for (const listener of deps.listeners ?? []) {
        try {
          await listener(record);
        } catch (error: unknown) {
          logger.error({ err: describeError(error, scrub) }, 'run listener failed');
        }
      }
      return record;
    } finally {
      await lock.release();
    }
  }

  return { run, planWindow };
}
