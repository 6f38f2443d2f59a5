/**
 * `/alerts [N]`: the latest alerts from `meta.etl_alerts` (newest first) and whether each is
 * resolved. The buttons under RUN_FAILED alerts (Retry, History) are handled here too.
 */
import type { Bot } from 'grammy';
import { textsOf, type BotContext, type BotDeps } from '../src/bot/context.js';
import { findAlert, listAlerts } from '../src/alerts/alertStore.js';
import { ALERT_CALLBACK_PREFIX, parseAlertCallback } from '../src/alerts/alertButtons.js';
import { actorOf, isAdmin } from '../src/bot/context.js';
import { startChatRun } from '../src/bot/chatRun.js';
import { isJobName } from '../src/runner/job.js';
import { listRuns } from '../src/runner/registry.js';
import { renderHistory } from './history.js';
import type { AlertRecord } from '../src/alerts/alert.js';
import { escapeHtml as h } from '../src/notify/html.js';
import { clip } from '../src/bot/texts.js';
import { formatInstant } from '../src/time/dates.js';
import type { BotTexts } from '../src/bot/texts.js';

/** Characters of HTML a reply may use (Telegram's limit is 4096 after parsing; markup only shrinks it). */
const MESSAGE_BUDGET = 3800;
const DEFAULT_COUNT = 10;
const MAX_COUNT = 50;
/** The standard fields of an alert text (src/alerts/texts.ts), skipped in the one-line summary. */
const FIELD_LINE = /^(Задача|Job|Данные за|Data for|Запуск|Run at|run_id)[ :]/;
const ICON: Record<AlertRecord['severity'], string> = { critical: '🔴', warning: '🟡', info: '🟢' };

/** One line per alert: severity, time, code, job, data date, repeats, open/resolved, first message line. */
export function renderAlerts(alerts: AlertRecord[], t: BotTexts, timezone: string): string {
  const lines = alerts.map((a) => {
    const stamp = formatInstant(a.ts, timezone); // YYYY-MM-DD HH:mm:ss, as in /history: dd.MM HH:mm
    const at = `${stamp.slice(8, 10)}.${stamp.slice(5, 7)} ${stamp.slice(11, 16)}`;
    const state =
      a.code === 'RECOVERED' ? '' : a.resolvedAt === null ? ` — ${t.open}` : ` — ✅ ${t.resolved}`;
    const repeats = a.occurrences > 1 ? ` ×${a.occurrences}` : '';
    // The line that says what happened: past the title and the job/date/run fields.
    const first =
      a.message
        .split('\n')
        .slice(1)
        .find((l) => l.trim() !== '' && !FIELD_LINE.test(l)) ?? '';
    const summary = first.length > 120 ? `${first.slice(0, 119)}…` : first;
    return (
      `${ICON[a.severity]} <code>${h(at)}</code> <b>${h(a.code)}</b> ${h(a.job)}` +
      `${a.dataDate ? ` (${h(a.dataDate)})` : ''}${repeats}${state}` +
      (summary ? `\n    ${h(summary)}` : '')
    );
  });
  // Telegram takes 4096 characters after entity parsing; stop well before and say how many are left.
  const out = [t.alertsTitle(alerts.length)];
  let length = out[0]?.length ?? 0;
  for (const [i, line] of lines.entries()) {
    if (length + line.length + 1 > MESSAGE_BUDGET) {
      out.push(t.andMore(lines.length - i));
      break;
    }
    out.push(line);
    length += line.length + 1;
  }
  return out.join('\n');
}

/** Registers /alerts and the alert message buttons. */
export function registerAlerts(bot: Bot<BotContext>, deps: BotDeps): void {
  const { t, zone } = textsOf(deps);
  bot.command('alerts', async (ctx) => {
    const arg = ctx.match.trim();
    let count = DEFAULT_COUNT;
    if (arg !== '') {
      if (!/^\d+$/.test(arg) || Number(arg) < 1 || Number(arg) > MAX_COUNT) {
        await ctx.reply(t.badCount(clip(arg)), { parse_mode: 'HTML' });
        return;
      }
      count = Number(arg);
    }
    const alerts = await listAlerts(deps.db.control, count);
    await ctx.reply(alerts.length === 0 ? t.alertsEmpty : renderAlerts(alerts, t, deps.config.timezone), {
      parse_mode: 'HTML',
    });
  });

  // Buttons under RUN_FAILED alerts: Retry (admins; reruns the failed window) and History.
  bot.callbackQuery(new RegExp(`^${ALERT_CALLBACK_PREFIX}`), async (ctx) => {
    const parsed = parseAlertCallback(ctx.callbackQuery.data);
    if (!parsed || !ctx.chat) return void (await ctx.answerCallbackQuery({ text: t.staleButton }));
    if (parsed.action === 'hist') {
      await ctx.answerCallbackQuery();
      const job = isJobName(parsed.job) ? parsed.job : undefined;
      const runs = await listRuns(deps.db, { job, limit: 10 });
      await ctx.reply(
        runs.length === 0
          ? t.historyEmpty
          : `${t.historyTitle(job, runs.length, zone)}\n${renderHistory(runs, deps.config.timezone, deps.config.telegram.language)}`,
        { parse_mode: 'HTML' },
      );
      return;
    }
    if (!isAdmin(ctx, deps))
      return void (await ctx.answerCallbackQuery({ text: t.adminOnly, show_alert: true }));
    const alert = await findAlert(deps.db.control, parsed.alertId);
    const window = (() => {
      try {
        return (JSON.parse(alert?.contextJson ?? '{}') as { window?: { fromDate?: string; toDate?: string } })
          .window;
      } catch {
        return undefined;
      }
    })();
    if (
      !alert ||
      alert.code !== 'RUN_FAILED' ||
      !isJobName(alert.job) ||
      !window?.fromDate ||
      !window.toDate
    ) {
      return void (await ctx.answerCallbackQuery({ text: t.staleButton }));
    }
    if (alert.resolvedAt !== null) return void (await ctx.answerCallbackQuery({ text: t.alreadyResolved }));
    // A backfill's jobs are chosen in its dialog; a retry must not widen them to all four.
    if (alert.job === 'backfill_all')
      return void (await ctx.answerCallbackQuery({ text: t.retryBackfill, show_alert: true }));
    const message = ctx.callbackQuery.message;
    const outcome = await startChatRun(
      deps,
      { chatId: ctx.chat.id, replyTo: message?.message_id, threadId: message?.message_thread_id },
      {
        job: alert.job,
        window: { from: window.fromDate, to: window.toDate },
        trigger: 'chat',
        actor: actorOf(ctx),
      },
    );
    if (outcome.started) await ctx.answerCallbackQuery({ text: t.retrying });
    else {
      await ctx.answerCallbackQuery();
      await ctx.reply(outcome.html, {
        parse_mode: 'HTML',
        ...(message
          ? { reply_parameters: { message_id: message.message_id, allow_sending_without_reply: true } }
          : {}),
      });
    }
  });
}
