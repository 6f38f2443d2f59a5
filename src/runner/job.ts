/**
 * The job contract: what a job receives from the runner and what it returns. Jobs live in
 * `jobs/<name>.ts`, one per job, named by the identifier recorded in `meta.etl_runs.job`.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/loadConfig.js';
import type { Db } from '../clickhouse/db.js';
import type { QticketsSource, VkAdsSource } from '../sources/types.js';
import type { DateWindow, IsoDate } from '../time/dates.js';
import type { RunRecord } from './runRecord.js';

/** Every job identifier, in dependency order. */
export const JOB_NAMES = [
  'vk_fetch',
  'qtickets_fetch',
  'build_dm_vk',
  'build_dm_sales',
  'backfill_all',
] as const;
/** A job identifier as stored in `meta.etl_runs.job`. */
export type JobName = (typeof JOB_NAMES)[number];
/** The four jobs a backfill runs, in the order it runs them per chunk. */
export const STEP_JOBS = [
  'vk_fetch',
  'qtickets_fetch',
  'build_dm_vk',
  'build_dm_sales',
] as const satisfies readonly JobName[];
export type StepJobName = (typeof STEP_JOBS)[number];

/** True when `name` is a job identifier. */
export function isJobName(name: string): name is JobName {
  return (JOB_NAMES as readonly string[]).includes(name);
}

/** Upstream clients, created on first use (so a build job needs no credentials). */
export interface Sources {
  vkAds(): VkAdsSource;
  qtickets(): QticketsSource;
}

/** Progress of a multi-step run (backfill), reported after each step. */
export interface StepProgress {
  /** Steps finished so far (ok or not). */
  done: number;
  total: number;
  job: StepJobName;
  window: DateWindow;
  status: 'ok' | 'error';
  rowsWritten: number;
}

/** Options of a backfill (ignored by other jobs). */
export interface BackfillOptions {
  /** Which step jobs to run; default all four. */
  jobs: readonly StepJobName[];
  /** Days per chunk. */
  chunkDays: number;
  /** When aborted, the backfill stops after the step in progress (the chat's Cancel button). */
  stopAfterStep?: AbortSignal | undefined;
  onProgress?: ((progress: StepProgress) => void) | undefined;
}

/** What a running job may use. */
export interface JobContext {
  runId: string;
  window: DateWindow;
  config: Config;
  db: Db;
  sources: Sources;
  logger: Logger;
  /** Aborted on timeout or hard cancellation; pass it to every I/O call. */
  signal: AbortSignal;
  backfill: BackfillOptions;
  /** Runs one step as its own run (own row, own lock) under this run; used by backfill_all. */
  runStep(job: StepJobName, window: DateWindow): Promise<RunRecord>;
}

/** True row counts of a run, for `meta.etl_runs`. */
export interface JobOutcome {
  /** Upstream records or staging rows read. */
  rowsRead: number;
  /** Rows now in the target for the window. */
  rowsWritten: number;
}

/** A job definition. */
export interface Job {
  name: JobName;
  /** One line: what it reads and writes. */
  summary: string;
  /** Configuration this job cannot run without, as "VARIABLE: why" lines (empty when complete). */
  missingConfig(config: Config, backfill: BackfillOptions): string[];
  /**
   * Why this window cannot be run (an upstream's horizon), or undefined when it can. Checked
   * before anything is locked or written. `today` is the MSK date of now.
   */
  refuseWindow?(window: DateWindow, today: IsoDate, backfill: BackfillOptions): string | undefined;
  run(ctx: JobContext): Promise<JobOutcome>;
}
