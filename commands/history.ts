/**
 * `/history [job] [N]`: the latest runs (time in the ETL zone, job, status, data window, rows,
 * duration) in a monospace block, with a button that sends a PNG chart of durations and rows
 * per job over the last 30 days. Read-only.
 */
import { InlineKeyboard, InputFile, type Bot } from 'grammy';
import { renderRunsChart } from '../src/bot/chart.js';
import { textsOf, type BotContext, type BotDeps } from '../src/bot/context.js';
import { escapeHtml as h } from '../src/notify/html.js';
import { clip, formatBotDuration } from '../src/bot/texts.js';
import { isJobName, JOB_NAMES } from '../src/runner/job.js';
import { listRuns } from '../src/runner/registry.js';
import type { RunRecord } from '../src/runner/runRecord.js';
import { formatInstant } from '../src/time/dates.js';

/** Default and largest number of runs listed. */
const DEFAULT_COUNT = 15;
const MAX_COUNT = 50;
/** Days the chart covers. */
const CHART_DAYS = 30;

/** Callback data of the chart button: `hist:c:<job>` or `hist:c:*` (≤ 64 bytes). */
export function chartButtonData(job: string | undefined): string {
  return `hist:c:${job ?? '*'}`;
}

/** `d.MM` of an ISO date. */
function shortDate(iso: string): string {
  return `${iso.slice(8, 10)}.${iso.slice(5, 7)}`;
}

/** The runs as a monospace block (escaped), one line per run, newest first. */
export function renderHistory(runs: RunRecord[], timezone: string, language: 'ru' | 'en'): string {
  const lines = runs.map((r) => {
    const started = formatInstant(r.startedAt, timezone);
    const when = `${started.slice(8, 10)}.${started.slice(5, 7)} ${started.slice(11, 16)}`;
    const window =
      r.fromDate === r.toDate ? shortDate(r.fromDate) : `${shortDate(r.fromDate)}–${shortDate(r.toDate)}`;
    const job = r.parentRunId ? `·${r.job}` : r.job;
    return [
      when,
      job.padEnd(15),
      r.status === 'ok' ? 'ok ' : 'ERR',
      window.padEnd(11),
      String(r.rowsWritten).padStart(7),
      formatBotDuration(r.durationMs, language).padStart(11),
    ].join(' ');
  });
  return `<pre>${h(lines.join('\n'))}</pre>`;
}

/** Parses `/history [job] [N]` arguments. @returns the filter or a usage message. */
export function parseHistoryArgs(
  text: string,
): { job: string | undefined; count: number } | { error: 'job' | 'count' | 'extra'; got: string } {
  const args = text.split(/\s+/).filter(Boolean);
  let job: string | undefined;
  let count: number | undefined;
  for (const arg of args) {
    if (/^\d+$/.test(arg)) {
      const n = Number(arg);
      if (count !== undefined) return { error: 'extra', got: arg };
      if (n < 1 || n > MAX_COUNT) return { error: 'count', got: arg };
      count = n;
    } else if (isJobName(arg)) {
      if (job !== undefined) return { error: 'extra', got: arg };
      job = arg;
    } else if (/^[+-]?\d/.test(arg)) return { error: 'count', got: arg };
    else return { error: 'job', got: arg };
  }
  return { job, count: count ?? DEFAULT_COUNT };
}

/** Registers /history and its chart button. */
export function registerHistory(bot: Bot<BotContext>, deps: BotDeps): void {
  const { t, zone } = textsOf(deps);

  bot.command('history', async (ctx) => {
    const parsed = parseHistoryArgs(ctx.match);
    if ('error' in parsed) {
      await ctx.reply(
        parsed.error === 'count'
          ? t.badCount(clip(parsed.got))
          : parsed.error === 'extra'
            ? t.badArgs('/history [job] [N]', t.tooManyArgs(clip(parsed.got)))
            : t.unknownJob(clip(parsed.got), JOB_NAMES.join(', ')),
        { parse_mode: 'HTML' },
      );
      return;
    }
    const runs = await listRuns(deps.db, { job: parsed.job, limit: parsed.count });
    const keyboard = new InlineKeyboard().text(t.chartButton, chartButtonData(parsed.job));
    await ctx.reply(
      runs.length === 0
        ? t.historyEmpty
        : `${t.historyTitle(parsed.job, runs.length, zone)}\n${renderHistory(runs, deps.config.timezone, deps.config.telegram.language)}`,
      { parse_mode: 'HTML', reply_markup: keyboard },
    );
  });

  bot.callbackQuery(/^hist:c:([a-z_]+|\*)$/, async (ctx) => {
    const raw = ctx.match[1];
    const job = raw !== undefined && isJobName(raw) ? raw : undefined;
    await ctx.answerCallbackQuery();
    await ctx.replyWithChatAction('upload_photo').catch(() => undefined);
    const sinceUnix = Math.floor(deps.now() / 1000) - (CHART_DAYS + 1) * 86_400;
    const runs = await listRuns(deps.db, { job, limit: 20_000, sinceUnix });
    const png = await renderRunsChart(runs, {
      language: deps.config.telegram.language,
      timezone: deps.config.timezone,
      nowMs: deps.now(),
      days: CHART_DAYS,
    });
    await ctx.replyWithPhoto(new InputFile(png, 'etl-runs.png'), {
      caption: t.chartCaption(job),
      parse_mode: 'HTML',
    });
  });
}
