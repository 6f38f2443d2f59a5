/** `/health`: the healthcheck of the ETL zone's yesterday as a readable table. Read-only. */
import type { Bot } from 'grammy';
import { textsOf, type BotContext, type BotDeps } from '../src/bot/context.js';
import { runHealthcheck, type HealthReport } from '../src/health/healthcheck.js';
import { escapeHtml as h } from '../src/notify/html.js';
import { businessDate, addDays } from '../src/time/dates.js';

/** The report as Telegram HTML: a title line and one line per check (✅/❌, name, detail). */
export function renderHealth(report: HealthReport, deps: BotDeps): string {
  const { t } = textsOf(deps);
  const lines = report.checks.map(
    (c) => `${c.ok ? '✅' : '❌'} <code>${h(c.name)}</code>\n    ${h(c.detail)}`,
  );
  return [t.healthTitle(report.date, report.ok), '', ...lines].join('\n');
}

/** Registers /health. */
export function registerHealth(bot: Bot<BotContext>, deps: BotDeps): void {
  bot.command('health', async (ctx) => {
    await ctx.replyWithChatAction('typing').catch(() => undefined);
    const yesterday = addDays(businessDate(new Date(deps.now()), deps.config.timezone), -1);
    const report = await runHealthcheck(
      deps.db,
      deps.config,
      yesterday,
      deps.now(),
      deps.config.telegram.language,
    );
    await ctx.reply(renderHealth(report, deps), { parse_mode: 'HTML' });
  });
}
