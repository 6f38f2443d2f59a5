/**
 * Alert messages in Russian (default) or English: Telegram HTML with every dynamic value
 * escaped, and a plain-text version for `meta.etl_alerts.message` and the terminal. Every alert
 * names the job, the data date (MSK) apart from the run time, the run id, and what to do next.
 */
import { escapeHtml, htmlToPlainText } from '../notify/html.js';
import { formatInstant } from '../time/dates.js';
import type { AlertCandidate, AlertCode, AlertFacts, AlertRecord, AnomalyFinding } from './alert.js';

/** Bot and alert language. */
export type Language = 'ru' | 'en';

/** A rendered alert. */
export interface RenderedAlert {
  html: string;
  text: string;
  /** The full error when it is too long to inline. */
  attachment?: { filename: string; text: string };
}

const INLINE_ERROR_CHARS = 800;

const T = {
  ru: {
    title: {
      RUN_FAILED: '🔴 Сбой запуска',
      ZERO_ROWS: '🟡 Нет данных',
      ANOMALY: '🟡 Аномалия в данных',
      RECOVERED: '🟢 Восстановлено',
      MISSED_RUN: '🟡 Пропущен запуск по расписанию',
    } satisfies Record<AlertCode, string>,
    job: 'Задача',
    dataDate: 'Данные за',
    runAt: 'Запуск',
    run: 'run_id',
    error: 'Ошибка',
    fullError: 'Полный текст ошибки — во вложении.',
    repeat: (n: number) => `Повторяется: ${n} раз(а), пока не исправлено.`,
    next: 'Что делать',
    nextFailed: (job: string, from: string, to: string) =>
      `посмотрите ошибку и историю (<code>etl history --job ${job}</code>), устраните причину и перезапустите: <code>etl run ${job} --from ${from} --to ${to}</code>.`,
    zeroRows: (table: string, n: number) => `задача завершилась успешно, но записала ${n} строк в ${table}.`,
    noRowsFor: (table: string, date: string) => `в ${table} нет строк за ${date} (проверка здоровья).`,
    nextZero:
      'проверьте, что в источнике есть данные за эти дни (кабинет VK Рекламы / QTickets) и что токены действительны; затем перезапустите задачу.',
    findings: 'Что не так',
    nextAnomaly:
      'сверьте цифры с источником (возвраты в QTickets, расход в кабинете VK Рекламы); если данные верны — это не сбой; если нет — перезагрузите период.',
    recovered: (job: string, since: string) => `${job} снова работает; сбой с ${since}.`,
    nextRecovered: 'ничего делать не нужно.',
    missed: (slot: string, zone: string) => `Запуск по расписанию в ${slot} (${zone}) не состоялся.`,
    nextMissed: (job: string) =>
      `проверьте, что бот (etl bot) или таймер работает; запустите вручную: <code>etl run ${job}</code>.`,
    metric: {
      net_revenue: 'чистая выручка',
      revenue: 'выручка',
      refunds_amount: 'возвраты',
      tickets_sold: 'продано билетов',
      spend: 'расход VK',
      clicks: 'клики',
      negative_rows: 'строк с отрицательными суммами',
    } as Record<string, string>,
    negative: 'меньше нуля',
    above: 'выше обычного',
    below: 'ниже обычного',
    medianOf: (days: number) => `медиана за ${days} дн.`,
    resolved: (run: string, trigger: string, after: string) =>
      `✅ Решено: запуск ${run} (${trigger}) через ${after}`,
    units: { d: 'дн', h: 'ч', min: 'мин', s: 'с' },
  },
  en: {
    title: {
      RUN_FAILED: '🔴 Run failed',
      ZERO_ROWS: '🟡 No data',
      ANOMALY: '🟡 Data anomaly',
      RECOVERED: '🟢 Recovered',
      MISSED_RUN: '🟡 Scheduled run missed',
    } satisfies Record<AlertCode, string>,
    job: 'Job',
    dataDate: 'Data for',
    runAt: 'Run at',
    run: 'run_id',
    error: 'Error',
    fullError: 'The full error text is attached.',
    repeat: (n: number) => `Still happening: ${n} time(s) so far.`,
    next: 'Next',
    nextFailed: (job: string, from: string, to: string) =>
      `read the error and the history (<code>etl history --job ${job}</code>), fix the cause and run it again: <code>etl run ${job} --from ${from} --to ${to}</code>.`,
    zeroRows: (table: string, n: number) => `the job succeeded but wrote ${n} rows to ${table}.`,
    noRowsFor: (table: string, date: string) => `${table} has no rows for ${date} (healthcheck).`,
    nextZero:
      'check that the source has data for these days (VK Ads cabinet / QTickets) and that the tokens are valid, then run the job again.',
    findings: 'What is wrong',
    nextAnomaly:
      'compare with the source (refunds in QTickets, spend in the VK Ads cabinet); if the figures are right this is not a fault, otherwise reload the period.',
    recovered: (job: string, since: string) => `${job} works again; it had been failing since ${since}.`,
    nextRecovered: 'nothing to do.',
    missed: (slot: string, zone: string) => `The scheduled run at ${slot} (${zone}) did not happen.`,
    nextMissed: (job: string) =>
      `check that the bot (etl bot) or the timer is running; run it by hand: <code>etl run ${job}</code>.`,
    metric: {
      net_revenue: 'net revenue',
      revenue: 'revenue',
      refunds_amount: 'refunds',
      tickets_sold: 'tickets sold',
      spend: 'VK spend',
      clicks: 'clicks',
      negative_rows: 'rows with negative amounts',
    } as Record<string, string>,
    negative: 'below zero',
    above: 'above normal',
    below: 'below normal',
    medianOf: (days: number) => `median of ${days} days`,
    resolved: (run: string, trigger: string, after: string) =>
      `✅ Resolved by run ${run} (${trigger}) after ${after}`,
    units: { d: 'd', h: 'h', min: 'min', s: 's' },
  },
} as const;

const MONEY_METRICS = new Set(['net_revenue', 'revenue', 'refunds_amount', 'spend']);

function number(value: number, lang: Language, metric = ''): string {
  const money = MONEY_METRICS.has(metric);
  const text = new Intl.NumberFormat(lang === 'ru' ? 'ru-RU' : 'en-US', {
    minimumFractionDigits: money ? 2 : 0,
    maximumFractionDigits: money ? 2 : 1,
  }).format(value);
  return money ? `${text} ₽` : text;
}

function findingLine(f: AnomalyFinding, lang: Language): string {
  const t = T[lang];
  const name = t.metric[f.metric] ?? f.metric;
  if (f.kind === 'negative') return `${name}: ${number(f.value, lang, f.metric)} — ${t.negative}`;
  const dir = f.kind === 'above_baseline' ? t.above : t.below;
  const pct = f.median ? Math.round(((f.value - f.median) / Math.abs(f.median)) * 100) : 0;
  return `${name}: ${number(f.value, lang, f.metric)} — ${dir} (${t.medianOf(f.historyDays ?? 0)}: ${number(f.median ?? 0, lang, f.metric)}, ${pct > 0 ? '+' : ''}${pct}%)`;
}

/**
 * Renders an alert.
 * @param occurrences how often the problem was seen (a reminder says so when > 1).
 */
export function renderAlert(
  c: AlertCandidate,
  lang: Language,
  timezone: string,
  occurrences = 1,
): RenderedAlert {
  const t = T[lang];
  const f = c.facts;
  const lines: string[] = [`<b>${escapeHtml(t.title[c.code])}</b>`];
  // Dates and times are in the ETL zone; name it (МСК for Moscow).
  const zone = timezone === 'Europe/Moscow' ? (lang === 'ru' ? 'МСК' : 'MSK') : timezone;
  const field = (label: string, value: string, code = false) =>
    lines.push(`${escapeHtml(label)}: ${code ? `<code>${escapeHtml(value)}</code>` : escapeHtml(value)}`);
  field(t.job, c.job, true);
  const dataLabel = `${t.dataDate} (${zone})`;
  if (f.window) {
    const { fromDate, toDate } = f.window;
    field(dataLabel, fromDate === toDate ? fromDate : `${fromDate}..${toDate}`);
  } else if (c.dataDate) field(dataLabel, c.dataDate);
  if (f.runStartedAt !== undefined) field(`${t.runAt} (${zone})`, formatInstant(f.runStartedAt, timezone));
  if (c.runId) field(t.run, c.runId, true);
  let attachment: RenderedAlert['attachment'];
  let next = '';
  switch (c.code) {
    case 'RUN_FAILED': {
      const err = f.errMsg ?? '';
      const inline = err.length > INLINE_ERROR_CHARS ? `${err.slice(0, INLINE_ERROR_CHARS)}…` : err;
      lines.push(`${escapeHtml(t.error)}: <code>${escapeHtml(inline)}</code>`);
      if (err.length > INLINE_ERROR_CHARS) {
        lines.push(escapeHtml(t.fullError));
        attachment = { filename: `${c.job}-${c.runId ?? 'error'}.txt`, text: err };
      }
      next = t.nextFailed(
        escapeHtml(c.job),
        f.window?.fromDate ?? c.dataDate ?? '',
        f.window?.toDate ?? c.dataDate ?? '',
      );
      break;
    }
    case 'ZERO_ROWS':
      lines.push(
        escapeHtml(
          c.runId === null
            ? t.noRowsFor(f.table ?? '', c.dataDate ?? '')
            : t.zeroRows(f.table ?? '', f.rowsWritten ?? 0),
        ),
      );
      next = escapeHtml(t.nextZero);
      break;
    case 'ANOMALY':
      if (f.table) field(lang === 'ru' ? 'Витрина' : 'Mart', f.table, true);
      lines.push(`${escapeHtml(t.findings)}:`);
      for (const finding of f.findings ?? []) lines.push(`• ${escapeHtml(findingLine(finding, lang))}`);
      next = escapeHtml(t.nextAnomaly);
      break;
    case 'MISSED_RUN':
      lines.push(
        escapeHtml(t.missed(f.slotAt === undefined ? '?' : formatInstant(f.slotAt, timezone), zone)),
      );
      next = t.nextMissed(escapeHtml(c.job));
      break;
    case 'RECOVERED':
      lines.push(
        escapeHtml(t.recovered(c.job, f.failingSince ? formatInstant(f.failingSince, timezone) : '?')),
      );
      next = escapeHtml(t.nextRecovered);
      break;
  }
  if (occurrences > 1) lines.push(`<i>${escapeHtml(t.repeat(occurrences))}</i>`);
  lines.push(`<b>${escapeHtml(t.next)}</b>: ${next}`);
  const html = lines.join('\n');
  return { html, text: htmlToPlainText(html), ...(attachment ? { attachment } : {}) };
}

/** Telegram's limit of one message, characters after entity parsing; an edit cannot split. */
const ONE_MESSAGE_CHARS = 4096;

/**
 * A duration for people, in its two largest units: `45 с`, `12 мин`, `2 ч 5 мин`, `3 дн 4 ч`
 * (en `45 s`, `12 min`, `2 h 5 min`, `3 d 4 h`).
 * @param seconds elapsed time, seconds; negative counts as 0.
 */
export function formatElapsed(seconds: number, lang: Language): string {
  const u = T[lang].units;
  const s = Math.max(0, Math.round(seconds));
  const two = (a: number, ua: string, b: number, ub: string) =>
    b > 0 ? `${a} ${ua} ${b} ${ub}` : `${a} ${ua}`;
  if (s < 60) return `${s} ${u.s}`;
  if (s < 3_600) return `${Math.floor(s / 60)} ${u.min}`;
  if (s < 86_400) return two(Math.floor(s / 3_600), u.h, Math.floor((s % 3_600) / 60), u.min);
  return two(Math.floor(s / 86_400), u.d, Math.floor((s % 86_400) / 3_600), u.h);
}

/** The run that resolved an alert, for {@link renderResolvedAlert}. */
export interface AlertResolution {
  /** `meta.etl_runs.run_id` of the successful run. */
  runId: string;
  /** What triggered it (`schedule`, `chat`, `cli`…). */
  trigger: string;
  /** When the alert was resolved, unix seconds. */
  resolvedAt: number;
}

/**
 * The text a resolved alert's message is edited to: the alert as first told, then
 * «✅ Решено: запуск <first 8 of run id> (<trigger>) через <time since the alert>» (en "✅ Resolved
 * by run … after …"). The alert is re-rendered from `contextJson`; when that cannot be read, or
 * the result would not fit one message, the stored plain `message` is used (escaped, shortened).
 */
export function renderResolvedAlert(
  alert: Pick<AlertRecord, 'code' | 'job' | 'dataDate' | 'runId' | 'contextJson' | 'message' | 'ts'>,
  resolution: AlertResolution,
  lang: Language,
  timezone: string,
): string {
  const note = T[lang].resolved(
    resolution.runId.slice(0, 8),
    resolution.trigger,
    formatElapsed(resolution.resolvedAt - alert.ts, lang),
  );
  const noteHtml = `<b>${escapeHtml(note)}</b>`;
  const room = ONE_MESSAGE_CHARS - note.length - 2;
  let original: string | undefined;
  try {
    const context = JSON.parse(alert.contextJson) as AlertFacts & { signature?: string };
    const html = renderAlert(
      {
        code: alert.code,
        job: alert.job,
        dataDate: alert.dataDate,
        runId: alert.runId,
        signature: context.signature ?? '',
        facts: context,
      },
      lang,
      timezone,
    ).html;
    if (htmlToPlainText(html).length <= room) original = html;
  } catch {
    // An unreadable context (an old or hand-written row): the stored text below.
  }
  original ??= escapeHtml(
    alert.message.length > room ? `${alert.message.slice(0, room - 1)}…` : alert.message,
  );
  return `${original}\n\n${noteHtml}`;
}
