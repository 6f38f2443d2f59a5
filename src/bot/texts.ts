/**
 * Bot texts in Russian (default) and English (`BOT_LANGUAGE`). Functions return Telegram HTML:
 * every dynamic value passes through `escapeHtml` here or in the caller's view.
 */
import { escapeHtml as h } from '../notify/html.js';
import type { Language } from '../alerts/texts.js';

/** The commands the bot registers with setMyCommands, in menu order. */
export const BOT_COMMANDS = [
  'run',
  'backfill',
  'health',
  'history',
  'alerts',
  'status',
  'schedule',
  'help',
  'cancel',
] as const;
export type BotCommand = (typeof BOT_COMMANDS)[number];

const ru = {
  commands: {
    run: 'Запустить задачу: /run [задача] [с] [по]',
    backfill: 'Перезагрузить период (выбор дат в календаре)',
    health: 'Проверка здоровья данных за вчера',
    history: 'Последние запуски: /history [задача] [N]',
    alerts: 'Последние алерты и решены ли они',
    status: 'Что выполняется сейчас и ближайшие запуски',
    schedule: 'Расписание задач',
    help: 'Справка',
    cancel: 'Отменить текущий диалог',
  } satisfies Record<BotCommand, string>,
  help: (admin: boolean) =>
    [
      '<b>zakaz-etl</b> — ETL VK Рекламы и QTickets в ClickHouse.',
      '',
      '/run [задача] [ГГГГ-ММ-ДД] [ГГГГ-ММ-ДД] — запустить задачу (без аргументов — выбор кнопкой)',
      '/backfill — перезагрузить период: задачи, даты в календаре, предпросмотр, подтверждение',
      '/health — проверка данных за вчера',
      '/history [задача] [N] — последние запуски; кнопка «График» пришлёт PNG за 30 дней',
      '/alerts [N] — последние алерты',
      '/status — что выполняется сейчас и ближайшие запуски',
      '/schedule — расписание',
      '/cancel — отменить текущий диалог',
      '',
      admin
        ? 'Вы администратор: можете запускать задачи и бэкфиллы.'
        : 'Запускать задачи могут только администраторы (TG_ADMIN_USER_IDS); вам доступны просмотр и проверки.',
    ].join('\n'),
  adminOnly: '⛔ Запускать задачи могут только администраторы бота.',
  staleButton: 'Эта кнопка больше не активна.',
  staleDialogButton: 'Кнопка неактивна: диалог завершён или его ведёт другой участник.',
  cancelled: 'Диалог отменён.',
  nothingToCancel: 'Нечего отменять: активного диалога нет.',
  cancelHint: 'Бэкфилл уже идёт — остановить его можно кнопкой «Остановить» под сообщением о ходе.',
  unknownJob: (job: string, jobs: string) => `Неизвестная задача «${h(job)}». Задачи: ${h(jobs)}.`,
  badArgs: (usage: string, why: string) =>
    `⚠️ Неверные аргументы: ${h(why)}\nИспользование: <code>${h(usage)}</code>`,
  tooManyArgs: (extra: string) => `лишние аргументы «${extra}»`,
  useBackfill:
    'Перезагрузка периода всеми задачами — через /backfill: там предпросмотр, ход выполнения и кнопка «Остановить».',
  badCount: (got: string) => `N должно быть целым числом от 1 до 50, получено «${h(got)}».`,
  pickJob: 'Какую задачу запустить?',
  confirmRun: (job: string, from: string, to: string) =>
    `Запустить <b>${h(job)}</b> за ${h(from)} — ${h(to)}?`,
  runButton: '▶️ Запустить',
  cancelButton: '✖️ Отмена',
  runCancelled: 'Запуск отменён.',
  runStarted: (job: string, from: string, to: string, who: string) =>
    `▶️ <b>${h(job)}</b> за ${h(from)} — ${h(to)} запущен (${h(who)}). Отвечу, когда закончится.`,
  busy: (job: string) => `⏳ ${h(job)} уже выполняется; дождитесь окончания (/status).`,
  shuttingDown: 'Бот останавливается и новые запуски не принимает.',
  runOk: 'успешно',
  runFailed: 'ошибка',
  runResult: (p: {
    job: string;
    ok: boolean;
    from: string;
    to: string;
    rowsRead: number;
    rowsWritten: number;
    duration: string;
    runId: string;
    error: string;
  }) =>
    [
      `${p.ok ? '✅' : '❌'} <b>${h(p.job)}</b>: ${p.ok ? 'успешно' : 'ошибка'}`,
      `Данные за: ${h(p.from)} — ${h(p.to)}`,
      `Строк прочитано: ${p.rowsRead}, записано: ${p.rowsWritten}`,
      `Длительность: ${h(p.duration)}`,
      `run_id: <code>${h(p.runId)}</code>`,
      ...(p.ok ? [] : [`Ошибка: <code>${h(p.error)}</code>`]),
    ].join('\n'),
  healthTitle: (date: string, ok: boolean) =>
    `${ok ? '✅' : '❌'} <b>Проверка здоровья за ${h(date)}</b>: ${ok ? 'всё в порядке' : 'есть проблемы'}`,
  historyTitle: (job: string | undefined, n: number, zone: string) =>
    `<b>Последние запуски${job ? ` ${h(job)}` : ''}</b> (${n}), время ${h(zone)}:`,
  historyEmpty: 'Запусков пока не было.',
  chartButton: '📈 График за 30 дней',
  chartCaption: (job: string | undefined) =>
    `Длительность и строки по задачам за 30 дней${job ? ` (${h(job)})` : ''}.`,
  alertsTitle: (n: number) => `<b>Последние алерты</b> (${n}):`,
  alertsEmpty: 'Алертов не было.',
  andMore: (n: number) => `… и ещё ${n} (уменьшите N)`,
  resolved: 'решён',
  open: 'открыт',
  statusRunning: '<b>Выполняется сейчас</b>',
  statusIdle: 'Сейчас ничего не выполняется.',
  statusNext: (zone: string) => `<b>Ближайшие запуски</b> (${h(zone)})`,
  scheduleTitle: (zone: string) => `<b>Расписание</b> (${h(zone)}):`,
  disabled: 'выключено',
  noSchedule: 'Расписание не запущено в этом процессе.',
  error: 'Не получилось выполнить команду; подробности в журнале бота.',
  foreignUser: 'Этим диалогом управляет тот, кто его начал.',
  retrying: 'Перезапускаю; отвечу, когда закончится.',
  alreadyResolved: 'Этот сбой уже решён.',
  retryBackfill: 'Бэкфилл перезапускается через /backfill: там выбираются задачи и даты.',
};

type Texts = typeof ru;

const en: Texts = {
  commands: {
    run: 'Run a job: /run [job] [from] [to]',
    backfill: 'Reload a period (dates on a calendar)',
    health: "Healthcheck of yesterday's data",
    history: 'Latest runs: /history [job] [N]',
    alerts: 'Recent alerts and whether resolved',
    status: 'What is running now and the next runs',
    schedule: 'The job schedule',
    help: 'Help',
    cancel: 'Cancel the current dialog',
  },
  help: (admin) =>
    [
      '<b>zakaz-etl</b> — VK Ads and QTickets ETL into ClickHouse.',
      '',
      '/run [job] [YYYY-MM-DD] [YYYY-MM-DD] — run a job (no arguments: pick with a button)',
      '/backfill — reload a period: jobs, dates on a calendar, preview, confirm',
      "/health — check yesterday's data",
      '/history [job] [N] — latest runs; the Chart button sends a 30-day PNG',
      '/alerts [N] — recent alerts',
      '/status — what is running now and the next runs',
      '/schedule — the schedule',
      '/cancel — cancel the current dialog',
      '',
      admin
        ? 'You are an admin: you may start runs and backfills.'
        : 'Only admins (TG_ADMIN_USER_IDS) start runs; you may read and check.',
    ].join('\n'),
  adminOnly: '⛔ Only the bot admins may start runs.',
  staleButton: 'This button is no longer active.',
  staleDialogButton: 'This button is inactive: the dialog ended or belongs to someone else.',
  cancelled: 'Dialog cancelled.',
  nothingToCancel: 'Nothing to cancel: no dialog is active.',
  cancelHint: 'A backfill is running — stop it with the Stop button under its progress message.',
  unknownJob: (job, jobs) => `Unknown job "${h(job)}". Jobs: ${h(jobs)}.`,
  badArgs: (usage, why) => `⚠️ Bad arguments: ${h(why)}\nUsage: <code>${h(usage)}</code>`,
  tooManyArgs: (extra) => `too many arguments "${extra}"`,
  useBackfill:
    'Reloading a period with all jobs goes through /backfill: it has a preview, progress and a Stop button.',
  badCount: (got) => `N must be a whole number from 1 to 50, got "${h(got)}".`,
  pickJob: 'Which job should run?',
  confirmRun: (job, from, to) => `Run <b>${h(job)}</b> for ${h(from)} — ${h(to)}?`,
  runButton: '▶️ Run',
  cancelButton: '✖️ Cancel',
  runCancelled: 'Run cancelled.',
  runStarted: (job, from, to, who) =>
    `▶️ <b>${h(job)}</b> for ${h(from)} — ${h(to)} started (${h(who)}). I will reply when it ends.`,
  busy: (job) => `⏳ ${h(job)} is already running; wait for it to end (/status).`,
  shuttingDown: 'The bot is shutting down and starts no new runs.',
  runOk: 'ok',
  runFailed: 'failed',
  runResult: (p) =>
    [
      `${p.ok ? '✅' : '❌'} <b>${h(p.job)}</b>: ${p.ok ? 'ok' : 'failed'}`,
      `Data dates: ${h(p.from)} — ${h(p.to)}`,
      `Rows read: ${p.rowsRead}, written: ${p.rowsWritten}`,
      `Duration: ${h(p.duration)}`,
      `run_id: <code>${h(p.runId)}</code>`,
      ...(p.ok ? [] : [`Error: <code>${h(p.error)}</code>`]),
    ].join('\n'),
  healthTitle: (date, ok) =>
    `${ok ? '✅' : '❌'} <b>Healthcheck for ${h(date)}</b>: ${ok ? 'all good' : 'problems found'}`,
  historyTitle: (job, n, zone) => `<b>Latest runs${job ? ` of ${h(job)}` : ''}</b> (${n}), ${h(zone)} time:`,
  historyEmpty: 'No runs yet.',
  chartButton: '📈 30-day chart',
  chartCaption: (job) => `Durations and rows per job over 30 days${job ? ` (${h(job)})` : ''}.`,
  alertsTitle: (n) => `<b>Recent alerts</b> (${n}):`,
  alertsEmpty: 'No alerts yet.',
  andMore: (n) => `… and ${n} more (ask for fewer)`,
  resolved: 'resolved',
  open: 'open',
  statusRunning: '<b>Running now</b>',
  statusIdle: 'Nothing is running now.',
  statusNext: (zone) => `<b>Next runs</b> (${h(zone)})`,
  scheduleTitle: (zone) => `<b>Schedule</b> (${h(zone)}):`,
  disabled: 'off',
  noSchedule: 'The scheduler does not run in this process.',
  error: 'The command failed; details are in the bot log.',
  foreignUser: 'This dialog belongs to the person who started it.',
  retrying: 'Retrying; I will reply when it ends.',
  alreadyResolved: 'This failure is already resolved.',
  retryBackfill: 'Restart a backfill with /backfill: the jobs and dates are chosen there.',
};

/** A duration for chat texts: ru `2,2 с` / `3 мин 05 с`, en `2.2 s` / `3 min 05 s`. */
export function formatBotDuration(ms: number, language: Language): string {
  const ru = language === 'ru';
  if (ms < 60_000) {
    const seconds = (ms / 1000).toFixed(1);
    return ru ? `${seconds.replace('.', ',')} с` : `${seconds} s`;
  }
  const total = Math.round(ms / 1000);
  const [h, m, s] = [Math.floor(total / 3600), Math.floor((total % 3600) / 60), total % 60];
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  const parts = ru
    ? [...(h > 0 ? [`${h} ч`] : []), `${mm} мин`, `${String(s).padStart(2, '0')} с`]
    : [...(h > 0 ? [`${h} h`] : []), `${mm} min`, `${String(s).padStart(2, '0')} s`];
  return parts.join(' ');
}

/** At most `max` characters of user input for echoing back (whole code points: never half an emoji). */
export function clip(text: string, max = 40): string {
  const chars = Array.from(text);
  return chars.length > max ? `${chars.slice(0, max).join('')}…` : text;
}

/**
 * A refusal of the runner (a UsageError, written for the CLI) in the chat's words: Russian for the
 * known cases, and without CLI flag names in either language. Unknown texts pass through.
 */
export function usageText(message: string, language: Language): string {
  if (language === 'ru') {
    for (const [pattern, say] of USAGE_RU) {
      const m = pattern.exec(message);
      if (m) return say(...m.slice(1).map((g) => g ?? ''));
    }
  }
  return message.replace(/--(from|to)\b/g, '$1');
}

const which = (flag: string) => (flag === 'from' ? 'начальная дата' : 'конечная дата');
const USAGE_RU: Array<[RegExp, (...groups: string[]) => string]> = [
  [
    /^--(from|to) must be a real calendar date YYYY-MM-DD, got "(.*)"$/s,
    (flag, got) => `${which(flag)} должна быть настоящей датой ГГГГ-ММ-ДД, получено «${got}»`,
  ],
  [
    /^--(from|to) must be between (\S+) and (\S+) .*got "(.*)"$/s,
    (flag, min, max, got) => `${which(flag)} должна быть между ${min} и ${max}, получено «${got}»`,
  ],
  [/^--from (\S+) is after --to (\S+)$/, (from, to) => `начальная дата ${from} позже конечной ${to}`],
  [
    /^the window (\S+)\.\.(\S+) is (\d+) days; at most (\d+) are allowed/,
    (from, to, days, max) => `период ${from} — ${to}: ${days} дн., а можно не больше ${max}`,
  ],
  [
    /^the window (\S+)\.\.(\S+) reaches into the future \(today is (\S+)/,
    (from, to, today) => `период ${from} — ${to} заходит в будущее (сегодня ${today})`,
  ],
  [
    /^VK Ads keeps daily statistics for the last (\d+) days only: vk_fetch can start at (\S+) at the earliest, not (\S+?),?(?: |$)/,
    (days, earliest, from) =>
      `VK Реклама хранит статистику только за последние ${days} дн.: vk_fetch можно начать не раньше ${earliest}, а не с ${from}`,
  ],
];

/** A short name of the ETL zone for texts: МСК/MSK for Europe/Moscow, else the IANA name. */
export function zoneLabel(timezone: string, language: Language): string {
  if (timezone === 'Europe/Moscow') return language === 'en' ? 'MSK' : 'МСК';
  return timezone;
}

/** The bot texts of a language. */
export function botTexts(language: Language): Texts {
  return language === 'en' ? en : ru;
}
export type BotTexts = Texts;
