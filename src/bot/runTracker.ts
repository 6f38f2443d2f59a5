/**
 * Runs started by the bot process (scheduler, chat commands, alert Retry buttons) go through
 * this tracker: it knows what is running now (for /status, for "one backfill at a time") and,
 * on shutdown, lets running jobs finish within a grace period, then aborts them so the runner
 * records the interruption in `meta.etl_runs` before the process exits.
 */
import { isJobName, type JobName, type StepProgress } from '../runner/job.js';
import { SHUTDOWN_REASON } from '../errors.js';
import type { Runner, RunRequest } from '../runner/runner.js';
import type { RunRecord } from '../runner/runRecord.js';
import type { DateWindow } from '../time/dates.js';

/** A run in progress in this process. */
export interface InFlightRun {
  /** Process-local id, increasing. */
  id: number;
  job: JobName;
  trigger: RunRequest['trigger'];
  actor: string;
  /** unix ms. */
  startedAtMs: number;
  /** The planned window (MSK dates). */
  window: DateWindow;
  /** The latest step progress of a backfill. */
  progress?: StepProgress;
  /** Set when a Cancel asked the backfill to stop after its current step. */
  stopRequested: boolean;
  /** Asks a backfill to stop after its current step (the chat's Cancel button). */
  stopAfterStep(): void;
}

/** Thrown when a run is asked for while the bot shuts down. */
export class ShuttingDownError extends Error {
  constructor() {
    super('the bot is shutting down; no new runs are started');
    this.name = 'ShuttingDownError';
  }
}

/** The tracker API. */
export interface RunTracker {
  /**
   * Starts a run through the runner and tracks it until it is recorded.
   * @returns the recorded run.
   * @throws ShuttingDownError after `shutdown` began; whatever `runner.run` throws before
   *         recording (UsageError, ConfigError, JobBusyError).
   */
  run(request: RunRequest, hooks?: { onStart?: (run: InFlightRun) => void }): Promise<RunRecord>;
  /** Runs in progress, oldest first. */
  inFlight(): InFlightRun[];
  /**
   * Stops accepting runs, waits up to `graceMs` for the running ones, then aborts the rest
   * (each is recorded as cancelled by the runner) and waits for their records.
   * @returns how many runs had to be aborted.
   */
  shutdown(graceMs: number): Promise<{ aborted: number }>;
}

/** Creates a tracker over a runner. */
export function createRunTracker(runner: Runner, now: () => number = Date.now): RunTracker {
  const running = new Map<number, { info: InFlightRun; done: Promise<unknown> }>();
  const hardStop = new AbortController();
  let closing = false;
  let nextId = 1;

  return {
    async run(request, hooks) {
      if (closing) throw new ShuttingDownError();
      if (!isJobName(request.job)) return runner.run(request); // throws the runner's UsageError
      const window = runner.planWindow(request.job, request.window, request.backfill?.jobs);
      const stop = new AbortController();
      const info: InFlightRun = {
        id: nextId++,
        job: request.job,
        trigger: request.trigger,
        actor: request.actor ?? '',
        startedAtMs: now(),
        window,
        stopRequested: false,
        stopAfterStep() {
          info.stopRequested = true;
          stop.abort(new Error('stopped from the chat'));
        },
      };
      const signal = request.signal ? AbortSignal.any([request.signal, hardStop.signal]) : hardStop.signal;
      const done = runner.run({
        ...request,
        signal,
        backfill: {
          ...request.backfill,
          stopAfterStep: stop.signal,
          onProgress: (progress) => {
            info.progress = progress;
            request.backfill?.onProgress?.(progress);
          },
        },
      });
      running.set(info.id, { info, done: done.catch(() => undefined) });
      hooks?.onStart?.(info);
      try {
        return await done;
      } finally {
        running.delete(info.id);
      }
    },
    inFlight() {
      return [...running.values()].map((r) => r.info);
    },
    async shutdown(graceMs) {
      closing = true;
      // Backfills stop at their next step boundary; single runs get the grace period to finish.
      for (const { info } of running.values()) if (info.job === 'backfill_all') info.stopAfterStep();
      const all = () => Promise.all([...running.values()].map((r) => r.done));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        all().then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), graceMs);
        }),
      ]);
      clearTimeout(timer);
      if (!timedOut) return { aborted: 0 };
      const aborted = running.size;
      hardStop.abort(new Error(`${SHUTDOWN_REASON}; the run did not finish within ${graceMs} ms`));
      await all();
      return { aborted };
    },
  };
}
