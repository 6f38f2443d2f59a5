/**
 * `/backfill` (admins): a dialog in one message that is edited step by step —
 *   1. the jobs (all four step jobs, or one);
 *   2. **from** on an inline month calendar (each day marked by its state in `meta.etl_runs` for
 *      the chosen jobs; days in the future or beyond the VK statistics horizon not selectable);
 *   3. **to** on the same calendar (not before from, at most BOT_BACKFILL_MAX_DAYS days);
 *   4. a preview: days, chunks, an estimate from past runs, and the rows now in the target
 *      tables that will be replaced; Confirm or Cancel;
 *   5. the message becomes the progress message of the running backfill (backfillRun.ts).
 * Only the admin who started the dialog can press its buttons. A second backfill while one runs
 * is refused. The dialog's state is stored on disk (versioned) so it survives a restart; it is
 * abandoned after BOT_CONVERSATION_TIMEOUT_MS of silence.
 *
 * Replay rules (conversations v2): everything that reads the database, the clock or the tracker
 * runs inside `conversation.external`; Bot API calls use the dialog's `ctx` only.
 */
import { formatBotDuration, usageText } from '../src/bot/texts.js';
import { createConversation } from '@grammyjs/conversations';
import { GrammyError, InlineKeyboard, type Bot } from 'grammy';
import type { Message } from 'grammy/types';
import { backfillPreview, dayStates, type BackfillPreview } from '../src/bot/backfillPlan.js';
import { startChatBackfill, stopChatBackfill, stopTexts } from '../src/bot/backfillRun.js';
import {
  addMonths,
  CALENDAR_LEGEND,
  monthKeyboard,
  parseCalendarCallback,
  type DayState,
} from '../src/bot/calendar.js';
import {
  actorOf,
  isAdmin,
  textsOf,
  type BotContext,
  type BotConversation,
  type BotDeps,
  type DialogContext,
} from '../src/bot/context.js';
import { UsageError } from '../src/errors.js';
import { escapeHtml as h } from '../src/notify/html.js';
import { STEP_JOBS, type StepJobName } from '../src/runner/job.js';
import { addDays, businessDate, type IsoDate } from '../src/time/dates.js';
import { VK_STATS_HORIZON_DAYS } from '../jobs/vk_fetch.js';

/** The dialog's id in the conversations plugin (and in its stored state). */
export const BACKFILL_DIALOG = 'backfill';

const T = {
  ru: {
    pickJobs: '🔄 <b>Бэкфилл</b>: какие задачи перезагрузить?',
    allJobs: 'Все четыре',
    pickFrom: (jobs: string) => `🔄 <b>Бэкфилл</b> (${h(jobs)})\nВыберите <b>первый</b> день:`,
    pickTo: (jobs: string, from: string, max: number) =>
      `🔄 <b>Бэкфилл</b> (${h(jobs)}) с ${h(from)}\nВыберите <b>последний</b> день (не больше ${max} дн.):`,
    preview: (p: { jobs: string; from: string; to: string; preview: BackfillPreview; chunkDays: number }) =>
      [
        `🔄 <b>Бэкфилл ${h(p.from)} — ${h(p.to)}</b>`,
        `Задачи: ${h(p.jobs)}`,
        `Дней: ${p.preview.days}; частей по ${p.chunkDays} дн.: ${p.preview.chunks}; шагов: ${p.preview.steps}`,
        `Оценка длительности: ${p.preview.estimatedMs === null ? 'нет истории запусков' : `≈ ${h(formatBotDuration(p.preview.estimatedMs, 'ru'))}`}`,
        '<b>Будет заменено строк</b> (сейчас в таблицах за период):',
        ...p.preview.replaces.map((r) => `• <code>${h(r.table)}</code>: ${r.rows}`),
      ].join('\n'),
    confirm: '✅ Запустить',
    cancelled: '🔄 Бэкфилл отменён.',
    busy: '⏳ Бэкфилл уже выполняется — дождитесь окончания (/status). Одновременно идёт только один.',
    refused: (why: string) => `⚠️ ${h(why)}`,
  },
  en: {
    pickJobs: '🔄 <b>Backfill</b>: which jobs should reload?',
    allJobs: 'All four',
    pickFrom: (jobs: string) => `🔄 <b>Backfill</b> (${h(jobs)})\nPick the <b>first</b> day:`,
    pickTo: (jobs: string, from: string, max: number) =>
      `🔄 <b>Backfill</b> (${h(jobs)}) from ${h(from)}\nPick the <b>last</b> day (at most ${max} days):`,
    preview: (p: { jobs: string; from: string; to: string; preview: BackfillPreview; chunkDays: number }) =>
      [
        `🔄 <b>Backfill ${h(p.from)} — ${h(p.to)}</b>`,
        `Jobs: ${h(p.jobs)}`,
        `Days: ${p.preview.days}; chunks of ${p.chunkDays} days: ${p.preview.chunks}; steps: ${p.preview.steps}`,
        `Estimated duration: ${p.preview.estimatedMs === null ? 'no run history yet' : `≈ ${h(formatBotDuration(p.preview.estimatedMs, 'en'))}`}`,
        '<b>Rows to be replaced</b> (now in the tables for the range):',
        ...p.preview.replaces.map((r) => `• <code>${h(r.table)}</code>: ${r.rows}`),
      ].join('\n'),
    confirm: '✅ Start',
    cancelled: '🔄 Backfill cancelled.',
    busy: '⏳ A backfill is already running — wait for it to end (/status). Only one runs at a time.',
    refused: (why: string) => `⚠️ ${h(why)}`,
  },
};

/** The first and last selectable days for `jobs` on `today` (MSK): VK's horizon when vk_fetch runs. */
export function selectableRange(
  jobs: readonly StepJobName[],
  today: IsoDate,
): { min: IsoDate; max: IsoDate } {
  const max = addDays(today, -1);
  const min = jobs.includes('vk_fetch') ? addDays(today, -(VK_STATS_HORIZON_DAYS - 1)) : '2000-01-01';
  return { min, max };
}

/** Registers /backfill, its dialog and the Stop button of running backfills. */
export function registerBackfill(bot: Bot<BotContext>, deps: BotDeps): void {
  const { t } = textsOf(deps);
  const b = T[deps.config.telegram.language];
  const stop = stopTexts(deps.config.telegram.language);
  const backfillRunning = () => deps.tracker.inFlight().some((r) => r.job === 'backfill_all');

  async function dialog(conversation: BotConversation, ctx: DialogContext, starterId: number) {
    const chatId = ctx.chat?.id;
    if (chatId === undefined) return;
    const language = deps.config.telegram.language;
    const message: Message.TextMessage = await ctx.reply(b.pickJobs, {
      parse_mode: 'HTML',
      reply_markup: new InlineKeyboard()
        .text(b.allJobs, 'bf:j:all')
        .row()
        .text('vk_fetch', 'bf:j:vk_fetch')
        .text('qtickets_fetch', 'bf:j:qtickets_fetch')
        .row()
        .text('build_dm_vk', 'bf:j:build_dm_vk')
        .text('build_dm_sales', 'bf:j:build_dm_sales')
        .row()
        .text(t.cancelButton, 'bf:x'),
    });

    /** The next tap on this dialog's message by its starter; other updates pass downstream. */
    async function tap(): Promise<{ data: string; ctx: DialogContext }> {
      for (;;) {
        const next = await conversation.wait();
        const query = next.callbackQuery;
        if (!query?.data || query.message?.message_id !== message.message_id) {
          // Commands, other messages' buttons: not this dialog's business.
          await conversation.skip({ next: true });
        }
        const data = query?.data ?? '';
        if (next.from?.id !== starterId) {
          await next.answerCallbackQuery({ text: t.foreignUser });
          continue;
        }
        return { data, ctx: next };
      }
    }

    /** Telegram refuses an edit to identical content ("message is not modified"): nothing to do then. */
    const unlessUnchanged = async (edit: Promise<unknown>): Promise<void> => {
      try {
        await edit;
      } catch (error: unknown) {
        if (error instanceof GrammyError && error.description.includes('message is not modified')) return;
        throw error;
      }
    };

    const end = async (c: DialogContext, html: string) => {
      await c.answerCallbackQuery();
      await c.editMessageText(html, { parse_mode: 'HTML' });
    };

    // 1. Jobs.
    let jobs: StepJobName[] | undefined;
    while (!jobs) {
      const { data, ctx: c } = await tap();
      if (data === 'bf:x') return end(c, b.cancelled);
      const picked = /^bf:j:(all|[a-z_]+)$/.exec(data)?.[1];
      if (picked === 'all') jobs = [...STEP_JOBS];
      else if (picked && (STEP_JOBS as readonly string[]).includes(picked)) jobs = [picked as StepJobName];
      else await c.answerCallbackQuery();
      if (jobs) await c.answerCallbackQuery();
    }
    const jobList = jobs.join(', ');
    const chosen = jobs;
    const today = await conversation.external(() => businessDate(new Date(deps.now()), deps.config.timezone));
    const range = selectableRange(chosen, today);

    /** Lets the starter pick a day between min and max on the calendar; undefined when cancelled. */
    async function pickDay(prompt: string, min: IsoDate, max: IsoDate, from?: IsoDate) {
      let month = (from ?? max).slice(0, 7);
      for (;;) {
        const shown = month;
        const states = await conversation.external(async () => {
          const first = `${shown}-01`;
          const map = await dayStates(deps.db, {
            jobs: chosen,
            from: first,
            to: addDays(`${addMonths(shown, 1)}-01`, -1),
          });
          return [...map.entries()];
        });
        const keyboard = monthKeyboard({
          month,
          language,
          states: new Map<IsoDate, DayState>(states),
          min,
          max,
          selected: { from },
        });
        const text = `${prompt}\n<i>${h(CALENDAR_LEGEND[language])}</i>`;
        await unlessUnchanged(
          ctx.api.editMessageText(chatId as number, message.message_id, text, {
            parse_mode: 'HTML',
            reply_markup: keyboard,
          }),
        );
        for (;;) {
          const { data, ctx: c } = await tap();
          const parsed = data === 'bf:x' ? ({ kind: 'cancel' } as const) : parseCalendarCallback(data);
          if (!parsed || parsed.kind === 'noop') {
            await c.answerCallbackQuery();
            continue;
          }
          if (parsed.kind === 'cancel') {
            await end(c, b.cancelled);
            return undefined;
          }
          if (parsed.kind === 'month') {
            await c.answerCallbackQuery();
            // A double tap repeats the month; a forged one may lie outside the selectable range.
            if (parsed.month === month || parsed.month < min.slice(0, 7) || parsed.month > max.slice(0, 7)) {
              continue;
            }
            month = parsed.month;
            break;
          }
          if (parsed.date < min || parsed.date > max) {
            await c.answerCallbackQuery();
            continue;
          }
          await c.answerCallbackQuery({ text: parsed.date });
          return { date: parsed.date, ctx: c };
        }
      }
    }

    // 2–3. From and to.
    const from = await pickDay(b.pickFrom(jobList), range.min, range.max);
    if (!from) return;
    const maxDays = deps.config.bot.backfillMaxDays;
    const toMax = [range.max, addDays(from.date, maxDays - 1)].sort()[0] as IsoDate;
    const to = await pickDay(b.pickTo(jobList, from.date, maxDays), from.date, toMax, from.date);
    if (!to) return;

    // 4. Preview.
    const planned = await conversation.external(async () => {
      try {
        deps.runner.planWindow('backfill_all', { from: from.date, to: to.date }, chosen);
      } catch (error: unknown) {
        if (error instanceof UsageError) return { refused: error.message } as const;
        throw error;
      }
      return {
        preview: await backfillPreview(deps.db, deps.config, { jobs: chosen, from: from.date, to: to.date }),
      };
    });
    if ('refused' in planned)
      return void (await to.ctx.editMessageText(b.refused(usageText(planned.refused ?? '', language)), {
        parse_mode: 'HTML',
      }));
    await to.ctx.editMessageText(
      b.preview({
        jobs: jobList,
        from: from.date,
        to: to.date,
        preview: planned.preview,
        chunkDays: deps.config.runner.backfillChunkDays,
      }),
      {
        parse_mode: 'HTML',
        reply_markup: new InlineKeyboard().text(b.confirm, 'bf:ok').text(t.cancelButton, 'bf:x'),
      },
    );
    for (;;) {
      const { data, ctx: c } = await tap();
      if (data === 'bf:x') return end(c, b.cancelled);
      if (data !== 'bf:ok') {
        await c.answerCallbackQuery();
        continue;
      }
      await c.answerCallbackQuery();
      // 5. Start (once: the result of external is replayed, never re-run).
      const started = await conversation.external(() => {
        if (backfillRunning()) return false;
        startChatBackfill(deps, {
          chatId,
          messageId: message.message_id,
          threadId: message.message_thread_id,
          jobs: chosen,
          from: from.date,
          to: to.date,
          actor: actorOf(c),
        });
        return true;
      });
      if (!started) await c.editMessageText(b.busy, { parse_mode: 'HTML' });
      return;
    }
  }

  bot.use(
    createConversation<BotContext, DialogContext>(dialog, {
      id: BACKFILL_DIALOG,
      maxMillisecondsToWait: deps.config.bot.conversationTimeoutMs,
    }),
  );

  bot.command('backfill', async (ctx) => {
    if (!isAdmin(ctx, deps)) return void (await ctx.reply(t.adminOnly));
    if (ctx.match.trim() !== '') {
      // Dates are picked on the calendar; typed arguments would be ignored silently otherwise.
      await ctx.reply(
        t.badArgs(
          '/backfill',
          deps.config.telegram.language === 'en'
            ? 'pick the dates on the calendar'
            : 'даты выбираются в календаре',
        ),
        { parse_mode: 'HTML' },
      );
      return;
    }
    if (backfillRunning()) return void (await ctx.reply(b.busy, { parse_mode: 'HTML' }));
    if (ctx.conversation.active(BACKFILL_DIALOG) > 0) await ctx.conversation.exit(BACKFILL_DIALOG);
    await ctx.conversation.enter(BACKFILL_DIALOG, ctx.from?.id ?? 0);
  });

  bot.callbackQuery(/^bf:stop:(\d{1,9})$/, async (ctx) => {
    if (!isAdmin(ctx, deps))
      return void (await ctx.answerCallbackQuery({ text: t.adminOnly, show_alert: true }));
    const message = ctx.callbackQuery.message;
    const stopped =
      ctx.chat !== undefined &&
      message !== undefined &&
      stopChatBackfill(deps, Number(ctx.match[1] ?? ''), {
        chatId: ctx.chat.id,
        messageId: message.message_id,
      });
    await ctx.answerCallbackQuery({ text: stopped ? stop.ack : stop.notRunning });
  });
}
