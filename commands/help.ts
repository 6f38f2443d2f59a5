/**
 * `/help` and `/start` (what the bot does and who may do what) and `/cancel` (leave the current
 * dialog). Registered before the dialogs so a waiting dialog cannot swallow them.
 */
import type { Bot } from 'grammy';
import { isAdmin, textsOf, type BotContext, type BotDeps } from '../src/bot/context.js';

/** Registers /help, /start and /cancel. */
export function registerHelp(bot: Bot<BotContext>, deps: BotDeps): void {
  const { t } = textsOf(deps);
  bot.command(['help', 'start'], async (ctx) => {
    await ctx.reply(t.help(isAdmin(ctx, deps)), { parse_mode: 'HTML' });
  });
  bot.command('cancel', async (ctx) => {
    const active = Object.keys(ctx.conversation.active()).length > 0;
    await ctx.conversation.exitAll();
    if (active) return void (await ctx.reply(t.cancelled));
    const backfill = deps.tracker.inFlight().some((r) => r.job === 'backfill_all');
    await ctx.reply(backfill ? t.cancelHint : t.nothingToCancel);
  });
}
