/**
 * `/run [job] [from] [to]` (admins): without arguments an inline keyboard of jobs; then a
 * confirmation with the exact window the run will take; on confirm the run starts in the
 * background and the bot replies with its result (status, rows, duration, data dates).
 *
 * Callback data (≤ 64 bytes, stateless so it survives a restart): `run:j:<job>` (picked from the
 * keyboard), `run:go:<job>:<YYYYMMDD>:<YYYYMMDD>` (confirm), `run:no` (cancel). A confirmation
 * older than BOT_CONVERSATION_TIMEOUT_MS answers "no longer active".
 */
import { InlineKeyboard, type Bot, type Context } from 'grammy';
import { actorOf, errorText, isAdmin, textsOf, type BotContext, type BotDeps } from '../src/bot/context.js';
import { refusalText, startChatRun } from '../src/bot/chatRun.js';
import { UsageError } from '../src/errors.js';
import { escapeHtml as h } from '../src/notify/html.js';
import { STEP_JOBS, type JobName, type StepJobName } from '../src/runner/job.js';
import { clip, usageText } from '../src/bot/texts.js';
import type { DateWindow } from '../src/time/dates.js';

const USAGE = '/run [job] [YYYY-MM-DD] [YYYY-MM-DD]';

/** The jobs /run starts (a backfill goes through /backfill, with its preview and Stop button). */
function isStepJob(name: string): name is StepJobName {
  return (STEP_JOBS as readonly string[]).includes(name);
}

/** `YYYY-MM-DD` → `YYYYMMDD` and back, to keep callback data short. */
const pack = (iso: string) => iso.replaceAll('-', '');
const unpack = (d: string) => `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`;

/** Callback data of the confirm button. */
export function confirmData(job: JobName, window: DateWindow): string {
  return `run:go:${job}:${pack(window.fromDate)}:${pack(window.toDate)}`;
}

function confirmation(deps: BotDeps, job: JobName, window: DateWindow) {
  const { t } = textsOf(deps);
  return {
    text: t.confirmRun(job, window.fromDate, window.toDate),
    keyboard: new InlineKeyboard().text(t.runButton, confirmData(job, window)).text(t.cancelButton, 'run:no'),
  };
}

/** True when the callback's message is older than the dialog timeout. */
function expired(ctx: Context, deps: BotDeps): boolean {
  const sentAt = ctx.callbackQuery?.message?.date;
  return sentAt !== undefined && deps.now() - sentAt * 1000 > deps.config.bot.conversationTimeoutMs;
}

/** Registers /run and its buttons. */
export function registerRun(bot: Bot<BotContext>, deps: BotDeps): void {
  const { t } = textsOf(deps);
  /** Confirmation messages already acted on (a double tap must not start twice). */
  const handled = new Set<string>();

  bot.command('run', async (ctx) => {
    if (!isAdmin(ctx, deps)) return void (await ctx.reply(t.adminOnly));
    const args = ctx.match.split(/\s+/).filter(Boolean);
    if (args.length === 0) {
      const keyboard = new InlineKeyboard();
      for (const job of STEP_JOBS) keyboard.text(job, `run:j:${job}`).row();
      keyboard.text(t.cancelButton, 'run:no');
      await ctx.reply(t.pickJob, { reply_markup: keyboard });
      return;
    }
    const [job, from, to, ...rest] = args as [string, ...string[]];
    if (job === 'backfill_all') return void (await ctx.reply(t.useBackfill, { parse_mode: 'HTML' }));
    if (!isStepJob(job)) {
      await ctx.reply(t.unknownJob(clip(job), STEP_JOBS.join(', ')), { parse_mode: 'HTML' });
      return;
    }
    if (rest.length > 0) {
      await ctx.reply(t.badArgs(USAGE, t.tooManyArgs(clip(rest.join(' ')))), { parse_mode: 'HTML' });
      return;
    }
    let window: DateWindow;
    try {
      window = deps.runner.planWindow(job, { from, to });
    } catch (error: unknown) {
      if (!(error instanceof UsageError)) throw error;
      await ctx.reply(t.badArgs(USAGE, usageText(error.message, deps.config.telegram.language)), {
        parse_mode: 'HTML',
      });
      return;
    }
    const c = confirmation(deps, job, window);
    await ctx.reply(c.text, { parse_mode: 'HTML', reply_markup: c.keyboard });
  });

  bot.callbackQuery(/^run:j:([a-z_]{1,20})$/, async (ctx) => {
    if (!isAdmin(ctx, deps))
      return void (await ctx.answerCallbackQuery({ text: t.adminOnly, show_alert: true }));
    const job = ctx.match[1] ?? '';
    if (!isStepJob(job) || expired(ctx, deps))
      return void (await ctx.answerCallbackQuery({ text: t.staleButton }));
    let window: DateWindow;
    try {
      window = deps.runner.planWindow(job, undefined);
    } catch (error: unknown) {
      await ctx.answerCallbackQuery();
      await ctx.editMessageText(refusalText(error, deps) ?? t.error, { parse_mode: 'HTML' });
      return;
    }
    const c = confirmation(deps, job, window);
    await ctx.answerCallbackQuery();
    await ctx.editMessageText(c.text, { parse_mode: 'HTML', reply_markup: c.keyboard });
  });

  bot.callbackQuery(/^run:go:([a-z_]{1,20}):(\d{8}):(\d{8})$/, async (ctx) => {
    if (!isAdmin(ctx, deps))
      return void (await ctx.answerCallbackQuery({ text: t.adminOnly, show_alert: true }));
    const [, job = '', from = '', to = ''] = ctx.match;
    const message = ctx.callbackQuery.message;
    const key = `${ctx.chat?.id}:${message?.message_id}`;
    if (!isStepJob(job) || expired(ctx, deps) || handled.has(key) || !message || !ctx.chat) {
      return void (await ctx.answerCallbackQuery({ text: t.staleButton }));
    }
    handled.add(key);
    const window = { from: unpack(from), to: unpack(to) };
    const actor = actorOf(ctx);
    // Start first (a failing answer or edit must not lose a confirmed run), then say what happened.
    const outcome = await startChatRun(
      deps,
      { chatId: ctx.chat.id, replyTo: message.message_id, threadId: message.message_thread_id },
      { job, window, trigger: 'chat', actor },
    );
    await ctx.answerCallbackQuery().catch(() => undefined);
    await ctx
      .editMessageText(outcome.started ? t.runStarted(job, window.from, window.to, actor) : outcome.html, {
        parse_mode: 'HTML',
      })
      .catch((error: unknown) =>
        deps.logger.warn({ err: errorText(deps, error) }, 'run confirmation not edited'),
      );
  });

  bot.callbackQuery('run:no', async (ctx) => {
    if (!isAdmin(ctx, deps))
      return void (await ctx.answerCallbackQuery({ text: t.adminOnly, show_alert: true }));
    await ctx.answerCallbackQuery();
    await ctx.editMessageText(h(t.runCancelled), { parse_mode: 'HTML' });
  });
}
