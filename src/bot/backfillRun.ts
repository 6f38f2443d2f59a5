/**
 * A backfill started from the chat: runs `backfill_all` through the tracker in the background and
 * keeps ONE progress message up to date by editing it in place (at most one edit per
 * `PROGRESS_EDIT_INTERVAL_MS`, plus the final one), with a Stop button that stops the backfill
 * after its current step (`bf:stop:<tracker id>`). The final edit says what was done; a short
 * reply then notifies the chat (edits are silent).
 */
import { formatBotDuration } from './texts.js';
import { InlineKeyboard } from 'grammy';
import { escapeHtml as h } from '../notify/html.js';
import type { StepJobName, StepProgress } from '../runner/job.js';
import type { RunRecord } from '../runner/runRecord.js';
import { addDays } from '../time/dates.js';
import { planBackfill } from '../../jobs/backfill_all.js';
import { errorText, textsOf, type BotDeps } from './context.js';
import { refusalText } from './chatRun.js';
import type { InFlightRun } from './runTracker.js';

/** Shortest gap between two progress edits, ms (Telegram allows about one edit per second per chat). */
export const PROGRESS_EDIT_INTERVAL_MS = 3000;

/** Callback data of the Stop button. */
export function stopButtonData(trackerId: number): string {
  return `bf:stop:${trackerId}`;
}

const T = {
  ru: {
    title: (from: string, to: string) => `🔄 <b>Бэкфилл ${h(from)} — ${h(to)}</b>`,
    jobs: (jobs: string) => `Задачи: ${h(jobs)}`,
    starting: 'Запускаю…',
    step: (done: number, total: number) => `Шагов выполнено: ${done} из ${total}`,
    last: (job: string, from: string, to: string, rows: number) =>
      `Последний: ${h(job)} ${h(from)} — ${h(to)}, строк: ${rows}`,
    stopping: '⏹ Остановлю после текущего шага…',
    stopButton: '⏹ Остановить',
    doneOk: (duration: string) => `✅ <b>Готово</b> за ${h(duration)}.`,
    doneStopped: (done: number, total: number) => `⏹ <b>Остановлено</b> после шага ${done} из ${total}.`,
    doneFailed: '❌ <b>Бэкфилл остановлен из-за ошибки.</b>',
    loaded: (from: string, to: string) => `Полностью перезагружено: ${h(from)} — ${h(to)}.`,
    loadedNone: 'Ни один период не перезагружен полностью.',
    remaining: (from: string, to: string) => `Не перезагружено: ${h(from)} — ${h(to)}.`,
    rows: (n: number) => `Строк записано шагами: ${n}.`,
    error: (e: string) => `Ошибка: <code>${h(e)}</code>`,
    runId: (id: string) => `run_id: <code>${h(id)}</code>`,
    notify: (ok: boolean) => (ok ? '✅ Бэкфилл завершён.' : '⚠️ Бэкфилл завершён не полностью.'),
    stopAck: 'Остановлю после текущего шага.',
    notRunning: 'Этот бэкфилл уже не выполняется.',
  },
  en: {
    title: (from: string, to: string) => `🔄 <b>Backfill ${h(from)} — ${h(to)}</b>`,
    jobs: (jobs: string) => `Jobs: ${h(jobs)}`,
    starting: 'Starting…',
    step: (done: number, total: number) => `Steps done: ${done} of ${total}`,
    last: (job: string, from: string, to: string, rows: number) =>
      `Last: ${h(job)} ${h(from)} — ${h(to)}, rows: ${rows}`,
    stopping: '⏹ Stopping after the current step…',
    stopButton: '⏹ Stop',
    doneOk: (duration: string) => `✅ <b>Done</b> in ${h(duration)}.`,
    doneStopped: (done: number, total: number) =>
      done === 0
        ? `⏹ <b>Stopped</b> before the first step (of ${total}).`
        : `⏹ <b>Stopped</b> after step ${done} of ${total}.`,
    doneFailed: '❌ <b>The backfill stopped on an error.</b>',
    loaded: (from: string, to: string) => `Fully reloaded: ${h(from)} — ${h(to)}.`,
    loadedNone: 'No period was fully reloaded.',
    remaining: (from: string, to: string) => `Not reloaded: ${h(from)} — ${h(to)}.`,
    rows: (n: number) => `Rows written by the steps: ${n}.`,
    error: (e: string) => `Error: <code>${h(e)}</code>`,
    runId: (id: string) => `run_id: <code>${h(id)}</code>`,
    notify: (ok: boolean) => (ok ? '✅ Backfill finished.' : '⚠️ Backfill did not finish completely.'),
    stopAck: 'Stopping after the current step.',
    notRunning: 'This backfill is no longer running.',
  },
};

/** Texts of the Stop button's answers. */
export function stopTexts(language: 'ru' | 'en'): { ack: string; notRunning: string; stopping: string } {
  const t = T[language];
  return { ack: t.stopAck, notRunning: t.notRunning, stopping: t.stopping };
}

/** What a backfill reported so far. */
interface ProgressLog {
  steps: StepProgress[];
}

/**
 * The latest day up to which every chunk (all chosen jobs) finished ok, counting chunks from the
 * start of the window; undefined when none did.
 */
export function fullyLoadedThrough(log: ProgressLog, jobs: readonly StepJobName[]): string | undefined {
  const byChunk = new Map<string, Set<string>>();
  const chunks: Array<{ fromDate: string; toDate: string }> = [];
  for (const s of log.steps) {
    const key = `${s.window.fromDate}|${s.window.toDate}`;
    if (!byChunk.has(key)) {
      byChunk.set(key, new Set());
      chunks.push(s.window);
    }
    if (s.status === 'ok') byChunk.get(key)?.add(s.job);
  }
  let through: string | undefined;
  for (const c of chunks) {
    const ok = byChunk.get(`${c.fromDate}|${c.toDate}`);
    if (!ok || jobs.some((j) => !ok.has(j))) break;
    through = c.toDate;
  }
  return through;
}

/**
 * Starts a chat backfill whose progress is shown in the existing message `messageId` of `chatId`
 * (the dialog's message). Returns at once; the work is registered with `deps.background`.
 */
export function startChatBackfill(
  deps: BotDeps,
  p: {
    chatId: number;
    messageId: number;
    threadId?: number | undefined;
    jobs: readonly StepJobName[];
    from: string;
    to: string;
    actor: string;
  },
): void {
  const language = deps.config.telegram.language;
  const t = T[language];
  const log: ProgressLog = { steps: [] };
  const plannedSteps = planBackfill(
    { fromDate: p.from, toDate: p.to },
    p.jobs,
    deps.config.runner.backfillChunkDays,
  ).length;
  let info: InFlightRun | undefined;
  let lastText = '';
  let lastEditAt = 0;
  let trailing: NodeJS.Timeout | undefined;
  let finished = false;
  let editing: Promise<unknown> = Promise.resolve();

  const progressText = (): string => {
    const last = log.steps.at(-1);
    const lines = [t.title(p.from, p.to), t.jobs(p.jobs.join(', '))];
    if (!last) lines.push(t.starting, t.step(0, plannedSteps));
    else {
      lines.push(t.step(last.done, last.total));
      lines.push(t.last(last.job, last.window.fromDate, last.window.toDate, last.rowsWritten));
    }
    if (info?.stopRequested) lines.push(t.stopping);
    return lines.join('\n');
  };

  const edit = (html: string, withStop: boolean): Promise<unknown> => {
    if (html === lastText) return editing;
    lastText = html;
    lastEditAt = deps.now();
    const markup =
      withStop && info ? new InlineKeyboard().text(t.stopButton, stopButtonData(info.id)) : undefined;
    editing = editing
      .then(() =>
        deps.api().editMessageText(p.chatId, p.messageId, html, {
          parse_mode: 'HTML',
          ...(markup ? { reply_markup: markup } : { reply_markup: { inline_keyboard: [] } }),
        }),
      )
      .catch((error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        if (!reason.includes('message is not modified')) {
          deps.logger.warn({ err: reason }, 'backfill progress edit failed');
        }
      });
    return editing;
  };

  /** Rate-limited progress edit: now if the last one is old enough, else once at the end of the gap. */
  const refresh = (): void => {
    if (finished) return;
    const wait = lastEditAt + PROGRESS_EDIT_INTERVAL_MS - deps.now();
    if (wait <= 0) {
      void edit(progressText(), true);
      return;
    }
    if (trailing) return;
    trailing = setTimeout(() => {
      trailing = undefined;
      if (!finished) void edit(progressText(), true);
    }, wait);
    trailing.unref();
  };

  const summary = (record: RunRecord): { html: string; ok: boolean } => {
    const last = log.steps.at(-1);
    const total = last?.total ?? plannedSteps;
    const done = last?.done ?? 0;
    const through = fullyLoadedThrough(log, p.jobs);
    const lines = [t.title(p.from, p.to), t.jobs(p.jobs.join(', '))];
    const ok = record.status === 'ok';
    if (ok) lines.push(t.doneOk(formatBotDuration(record.durationMs, language)));
    else if (info?.stopRequested) lines.push(t.doneStopped(done, total));
    else lines.push(t.doneFailed);
    lines.push(through ? t.loaded(p.from, through) : t.loadedNone);
    if (!ok && through !== p.to) {
      const next = through ? addDays(through, 1) : p.from;
      lines.push(t.remaining(next, p.to));
    }
    lines.push(t.rows(log.steps.reduce((sum, s) => sum + s.rowsWritten, 0)));
    if (!ok && !info?.stopRequested) {
      lines.push(t.error(record.errMsg.length > 500 ? `${record.errMsg.slice(0, 499)}…` : record.errMsg));
    }
    lines.push(t.runId(record.runId));
    return { html: lines.join('\n'), ok };
  };

  const work = deps.tracker
    .run(
      {
        job: 'backfill_all',
        window: { from: p.from, to: p.to },
        trigger: 'chat',
        actor: p.actor,
        backfill: {
          jobs: p.jobs,
          onProgress: (progress) => {
            log.steps.push(progress);
            refresh();
          },
        },
      },
      {
        onStart: (run) => {
          info = run;
          progressMessages.set(run.id, {
            chatId: p.chatId,
            messageId: p.messageId,
            refresh: () => void edit(progressText(), true),
          });
          void edit(progressText(), true);
        },
      },
    )
    .then(
      async (record) => {
        finished = true;
        if (info) progressMessages.delete(info.id);
        clearTimeout(trailing);
        const s = summary(record);
        await edit(s.html, false);
        await deps.api().sendMessage(p.chatId, t.notify(s.ok), {
          ...(p.threadId === undefined ? {} : { message_thread_id: p.threadId }),
          reply_parameters: { message_id: p.messageId, allow_sending_without_reply: true },
        });
      },
      async (error: unknown) => {
        finished = true;
        if (info) progressMessages.delete(info.id);
        clearTimeout(trailing);
        const text = refusalText(error, deps);
        if (text === undefined) {
          deps.logger.error({ err: errorText(deps, error) }, 'chat backfill failed to start');
        }
        await edit(text ?? textsOf(deps).t.error, false);
      },
    );
  deps.background(work);
}

/** The running chat backfills of this process by tracker id: their progress message and refresher. */
const progressMessages = new Map<number, { chatId: number; messageId: number; refresh: () => void }>();

/**
 * Asks the chat backfill with tracker id `id` to stop after its current step and shows that in
 * its progress message. The Stop button must be on that very message (tracker ids restart with
 * the process, so an old button must not stop a newer backfill).
 * @returns false when no such backfill runs in this process from that message.
 */
export function stopChatBackfill(
  deps: BotDeps,
  id: number,
  from: { chatId: number; messageId: number },
): boolean {
  const progress = progressMessages.get(id);
  const run = deps.tracker.inFlight().find((r) => r.id === id && r.job === 'backfill_all');
  if (!run || !progress || progress.chatId !== from.chatId || progress.messageId !== from.messageId)
    return false;
  run.stopAfterStep();
  progress.refresh();
  return true;
}
