/**
 * `/alerts [N]`: the latest alerts from `meta.etl_alerts` (newest first) and whether each is
 * resolved. The buttons under RUN_FAILED alerts (Retry, History) are handled here too.
 */
import type { Bot } from 'grammy';
import { textsOf, type BotContext, type BotDeps } from '../src/bot/context.js';
import { listAlerts } from '../src/alerts/alertStore.js';
import type { AlertRecord } from '../src/alerts/alert.js';
import { escapeHtml as h } from '../src/notify/html.js';
import { formatInstant } from '../src/time/dates.js';
import type { BotTexts } from '../src/bot/texts.js';

const DEFAULT_COUNT = 10;
const MAX_COUNT = 50;
const ICON: Record<AlertRecord['severity'], string> = { critical: '🔴', warning: '🟡', info: '🟢' };

/** One line per alert: severity, time, code, job, data date, repeats, open/resolved, first message line. */
export function renderAlerts(alerts: AlertRecord[], t: BotTexts, timezone: string): string {
  const lines = alerts.map((a) => {
    const at = formatInstant(a.ts, timezone).slice(5, 16);
    const state =
      a.code === 'RECOVERED' ? '' : a.resolvedAt === null ? ` — ${t.open}` : ` — ✅ ${t.resolved}`;
    const repeats = a.occurrences > 1 ? ` ×${a.occurrences}` : '';
    const first = a.message.split('\n').find((l) => l.trim() !== '' && !l.startsWith(a.code)) ?? '';
    const summary = first.length > 120 ? `${first.slice(0, 119)}…` : first;
    return (
      `${ICON[a.severity]} <code>${h(at)}</code> <b>${h(a.code)}</b> ${h(a.job)}` +
      `${a.dataDate ? ` (${h(a.dataDate)})` : ''}${repeats}${state}` +
      (summary ? `\n    ${h(summary)}` : '')
    );
  });
  return [t.alertsTitle(alerts.length), ...lines].join('\n');
}

/** Registers /alerts and the alert message buttons. */
export function registerAlerts(bot: Bot<BotContext>, deps: BotDeps): void {
  const { t } = textsOf(deps);
  bot.command('alerts', async (ctx) => {
    const arg = ctx.match.trim();
    let count = DEFAULT_COUNT;
    if (arg !== '') {
      if (!/^\d+$/.test(arg) || Number(arg) < 1 || Number(arg) > MAX_COUNT) {
        await ctx.reply(t.badCount(arg.slice(0, 40)), { parse_mode: 'HTML' });
        return;
      }
      count = Number(arg);
    }
    const alerts = await listAlerts(deps.db.control, count);
    await ctx.reply(alerts.length === 0 ? t.alertsEmpty : renderAlerts(alerts, t, deps.config.timezone), {
      parse_mode: 'HTML',
    });
  });
}
