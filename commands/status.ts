/**
 * `/status` (what this bot process is running now, with backfill progress, and the next
 * scheduled runs) and `/schedule` (each task's cron and its next fire times). Read-only.
 */
import { formatBotDuration } from '../src/bot/texts.js';
import type { Bot } from 'grammy';
import { textsOf, type BotContext, type BotDeps } from '../src/bot/context.js';
import { escapeHtml as h } from '../src/notify/html.js';
import { nextFireTimes, scheduleFromConfig } from '../src/scheduler/schedule.js';
import { formatInstant } from '../src/time/dates.js';

/** `dd.MM HH:mm` of a unix-ms instant in the ETL zone. */
function shortTime(ms: number, timezone: string): string {
  const iso = formatInstant(ms / 1000, timezone); // YYYY-MM-DD HH:mm:ss
  return `${iso.slice(8, 10)}.${iso.slice(5, 7)} ${iso.slice(11, 16)}`;
}

/** Registers /status and /schedule. */
export function registerStatus(bot: Bot<BotContext>, deps: BotDeps): void {
  const { t, zone } = textsOf(deps);
  const tz = deps.config.timezone;

  bot.command('status', async (ctx) => {
    const lines: string[] = [];
    const running = deps.tracker.inFlight();
    if (running.length === 0) lines.push(t.statusIdle);
    else {
      lines.push(t.statusRunning);
      for (const r of running) {
        const progress = r.progress ? ` — ${r.progress.done}/${r.progress.total}` : '';
        lines.push(
          `• <b>${h(r.job)}</b> ${h(r.window.fromDate)} — ${h(r.window.toDate)}${progress}, ` +
            `${h(r.trigger)}${r.actor ? ` (${h(r.actor)})` : ''}, ${h(formatBotDuration(deps.now() - r.startedAtMs, deps.config.telegram.language))}`,
        );
      }
    }
    lines.push('');
    const next = deps.nextRuns?.();
    if (!next) lines.push(t.noSchedule);
    else {
      lines.push(t.statusNext(zone));
      for (const n of [...next].sort((a, b) => a.at.getTime() - b.at.getTime())) {
        lines.push(`• ${h(shortTime(n.at.getTime(), tz))} ${h(n.task)}`);
      }
    }
    await ctx.reply(lines.join('\n'), { parse_mode: 'HTML' });
  });

  bot.command('schedule', async (ctx) => {
    const now = new Date(deps.now());
    const rows = scheduleFromConfig(deps.config).map((e) => {
      const next =
        e.cron === null
          ? t.disabled
          : nextFireTimes(e, now, 3)
              .map((d) => shortTime(d.getTime(), tz))
              .join(', ');
      return `${e.task.padEnd(15)} ${(e.cron ?? 'off').padEnd(12)} ${next}`;
    });
    await ctx.reply(`${t.scheduleTitle(tz)}\n<pre>${h(rows.join('\n'))}</pre>`, { parse_mode: 'HTML' });
  });
}
