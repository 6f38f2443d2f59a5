/**
 * backfill_all: runs the four step jobs over `--from..--to` in chunks of
 * `ETL_BACKFILL_CHUNK_DAYS` days (per chunk: vk_fetch, qtickets_fetch, build_dm_vk,
 * build_dm_sales, or the chosen subset). Each step is its own run row whose parent_run_id is this
 * run; this run's rows are the sums of its steps. It stops at the first failed step (later builds
 * would read a half-fetched window) and, when asked to, after the step in progress.
 */
import { EtlError, JobCancelledError } from '../src/errors.js';
import { STEP_JOBS, type Job, type StepJobName } from '../src/runner/job.js';
import { chunkWindow, type DateWindow } from '../src/time/dates.js';
import { vkHorizonProblem } from './vk_fetch.js';

/** One planned step of a backfill. */
export interface BackfillStep {
  job: StepJobName;
  window: DateWindow;
}

/** The steps a backfill of `window` runs, in order (used for `--dry-run` and the chat preview). */
export function planBackfill(
  window: DateWindow,
  jobs: readonly StepJobName[],
  chunkDays: number,
): BackfillStep[] {
  const ordered = STEP_JOBS.filter((j) => jobs.includes(j));
  return chunkWindow(window, chunkDays).flatMap((chunk) => ordered.map((job) => ({ job, window: chunk })));
}

export const backfillAll: Job = {
  name: 'backfill_all',
  summary: 'runs vk_fetch, qtickets_fetch, build_dm_vk, build_dm_sales over a range in chunks',
  missingConfig: (config, backfill) => [
    ...(backfill.jobs.includes('vk_fetch') && !config.vkAds.clientId
      ? ['VK_ADS_CLIENT_ID: required by vk_fetch']
      : []),
    ...(backfill.jobs.includes('vk_fetch') && !config.vkAds.clientSecret
      ? ['VK_ADS_CLIENT_SECRET: required by vk_fetch']
      : []),
    ...(backfill.jobs.includes('qtickets_fetch') && !config.qtickets.token
      ? ['QTICKETS_TOKEN: required by qtickets_fetch']
      : []),
  ],
  refuseWindow: (window, today, backfill) => {
    const problem = backfill.jobs.includes('vk_fetch') ? vkHorizonProblem(window, today) : undefined;
    return (
      problem && `${problem}; backfill older days with --jobs qtickets_fetch,build_dm_sales, or start later`
    );
  },
  async run(ctx) {
    const steps = planBackfill(ctx.window, ctx.backfill.jobs, ctx.backfill.chunkDays);
    let rowsRead = 0;
    let rowsWritten = 0;
    for (const [i, step] of steps.entries()) {
      if (ctx.backfill.stopAfterStep?.aborted) {
        throw new JobCancelledError('backfill_all', `stopped on request after ${i} of ${steps.length} steps`);
      }
      ctx.signal.throwIfAborted();
      const record = await ctx.runStep(step.job, step.window);
      rowsRead += record.rowsRead;
      rowsWritten += record.rowsWritten;
      ctx.backfill.onProgress?.({
        done: i + 1,
        total: steps.length,
        job: step.job,
        window: step.window,
        status: record.status,
        rowsWritten: record.rowsWritten,
      });
      if (record.status === 'error') {
        throw new EtlError(
          `step ${i + 1}/${steps.length} ${step.job} ${step.window.fromDate}..${step.window.toDate} failed (run ${record.runId}): ${record.errMsg}`,
        );
      }
    }
    return { rowsRead, rowsWritten };
  },
};
