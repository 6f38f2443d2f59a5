/**
 * The month calendar of `/backfill` (reference/telegram-grammy.md §3): a pure function from a
 * month, the selectable bounds and each day's load state to an inline keyboard, and the parser of
 * the callback data it emits. No I/O and no clock: "today" reaches it only through `max`.
 *
 * Callback data (at most 14 bytes, far below Telegram's 64):
 * - `cal:d:YYYYMMDD` a selectable day was picked;
 * - `cal:m:YYYYMM`   show that month;
 * - `cal:_`          a button that does nothing (headers, padding, days out of bounds);
 * - `cal:x`          cancel.
 * The keyboard is stateless, so a tap may come from an old message: the conversation must still
 * check a picked day against its current bounds.
 */
import { InlineKeyboard } from 'grammy';
import { DateTime } from 'luxon';
import type { Language } from '../alerts/texts.js';
import { isIsoDate, type IsoDate } from '../time/dates.js';

/**
 * What the run registry says about a day for the chosen jobs (see `dayStates` in backfillPlan.ts):
 * `ok` loaded with rows, `failed` the latest covering run failed, `zero` loaded but a run wrote no
 * rows, `never` some job never loaded it.
 */
export type DayState = 'ok' | 'failed' | 'zero' | 'never';

/** A calendar month `YYYY-MM`. */
export type MonthKey = string;

/** Options of `monthKeyboard`. */
export interface MonthKeyboardOptions {
  /** The month shown, `YYYY-MM`. */
  month: MonthKey;
  language: Language;
  /** Load state per MSK date `YYYY-MM-DD`; a selectable day without an entry is shown as `never`. */
  states: ReadonlyMap<IsoDate, DayState>;
  /** First selectable MSK date `YYYY-MM-DD`, inclusive (e.g. the VK statistics horizon, or the chosen "from"). */
  min: IsoDate;
  /** Last selectable MSK date `YYYY-MM-DD`, inclusive (e.g. yesterday). */
  max: IsoDate;
  /** Days already chosen: `from` is shown with 📍 instead of its state mark. */
  selected?: { from?: IsoDate | undefined } | undefined;
}

/** A parsed calendar callback. `date` is `YYYY-MM-DD`, `month` is `YYYY-MM`. */
export type CalendarCallback =
  { kind: 'day'; date: IsoDate } | { kind: 'month'; month: MonthKey } | { kind: 'noop' } | { kind: 'cancel' };

/** Callback data of buttons that do nothing; answer the callback query and move on. */
export const CALENDAR_NOOP = 'cal:_';
/** Callback data of the Cancel button. */
export const CALENDAR_CANCEL = 'cal:x';
/** Every calendar callback starts with this; filter callback queries with `/^cal:/`. */
export const CALENDAR_PREFIX = 'cal:';

/** The mark after a selectable day's number, per state. */
export const DAY_MARKS: Readonly<Record<DayState, string>> = {
  ok: '✅',
  failed: '❌',
  zero: '⚪',
  never: '·',
};
const FROM_MARK = '📍';

/** One line explaining the marks, to print under the calendar. */
export const CALENDAR_LEGEND: Readonly<Record<Language, string>> = {
  ru: `${DAY_MARKS.ok} загружено, ${DAY_MARKS.failed} сбой, ${DAY_MARKS.zero} 0 строк, ${DAY_MARKS.never} не загружалось, ${FROM_MARK} начало; число без знака выбрать нельзя`,
  en: `${DAY_MARKS.ok} loaded, ${DAY_MARKS.failed} failed, ${DAY_MARKS.zero} 0 rows, ${DAY_MARKS.never} never loaded, ${FROM_MARK} start; a bare number cannot be chosen`,
};

const TEXT = {
  ru: {
    months: [
      'Январь',
      'Февраль',
      'Март',
      'Апрель',
      'Май',
      'Июнь',
      'Июль',
      'Август',
      'Сентябрь',
      'Октябрь',
      'Ноябрь',
      'Декабрь',
    ],
    weekdays: ['Пн', 'Вт', 'Ср', 'Чт', 'Пт', 'Сб', 'Вс'],
    cancel: '✖ Отмена',
  },
  en: {
    months: [
      'January',
      'February',
      'March',
      'April',
      'May',
      'June',
      'July',
      'August',
      'September',
      'October',
      'November',
      'December',
    ],
    weekdays: ['Mo', 'Tu', 'We', 'Th', 'Fr', 'Sa', 'Su'],
    cancel: '✖ Cancel',
  },
} as const satisfies Record<Language, { months: string[]; weekdays: string[]; cancel: string }>;

/**
 * Label of a disabled navigation button or an empty cell: U+2800 (Braille blank) renders empty
 * but is not whitespace, because Telegram refuses a button whose text is empty after trimming
 * (BUTTON_TEXT_INVALID).
 */
const BLANK = '\u2800';

const MONTH_KEY = /^(\d{4})-(0[1-9]|1[0-2])$/;
const DAY_DATA = /^cal:d:(\d{4})(\d{2})(\d{2})$/;
const MONTH_DATA = /^cal:m:(\d{4})(\d{2})$/;
/** Telegram's limit for callback_data, bytes. */
const MAX_CALLBACK_BYTES = 64;

function firstDayOf(month: MonthKey): DateTime {
  return DateTime.fromISO(`${month}-01`, { zone: 'UTC' });
}

function monthOf(date: IsoDate): MonthKey {
  return date.slice(0, 7);
}

function toIso(dt: DateTime): IsoDate {
  return dt.toISODate() as IsoDate;
}

/** The month `delta` months after `month` (negative goes back), `YYYY-MM`. */
export function addMonths(month: MonthKey, delta: number): MonthKey {
  return firstDayOf(month).plus({ months: delta }).toFormat('yyyy-MM');
}

/** Callback data that picks `date` (`YYYY-MM-DD`). */
export function dayCallback(date: IsoDate): string {
  return `cal:d:${date.replaceAll('-', '')}`;
}

/** Callback data that shows `month` (`YYYY-MM`). */
export function monthCallback(month: MonthKey): string {
  return `cal:m:${month.replace('-', '')}`;
}

/**
 * The inline keyboard of one month: a header `‹ Ноябрь 2026 ›`, the weekdays Monday first, the
 * weeks of the month, and Cancel. A day inside [min, max] shows its number and state mark and
 * picks it; a day outside shows its bare number and does nothing. ‹ and › jump to the nearest
 * month before or after that has a selectable day, and are blank no-ops when there is none.
 * @throws RangeError when `month` is not `YYYY-MM` or `min`/`max` are not real `YYYY-MM-DD` dates.
 */
export function monthKeyboard(options: MonthKeyboardOptions): InlineKeyboard {
  const { month, language, states, min, max } = options;
  if (!MONTH_KEY.test(month)) throw new RangeError(`monthKeyboard: month must be YYYY-MM, got "${month}"`);
  for (const [name, value] of [
    ['min', min],
    ['max', max],
  ] as const) {
    if (!isIsoDate(value)) {
      throw new RangeError(`monthKeyboard: ${name} must be a real date YYYY-MM-DD, got "${value}"`);
    }
  }
  const text = TEXT[language];
  const first = firstDayOf(month);
  const last = first.endOf('month').startOf('day');
  const firstIso = toIso(first);
  const lastIso = toIso(last);
  const anySelectable = min <= max;

  const keyboard = new InlineKeyboard();
  // A selectable day before this month exists iff min is before its first day (and max ≥ min);
  // jump straight to the latest such month so that a far-away month is one tap from the range.
  if (anySelectable && min < firstIso) {
    const target = max < firstIso ? monthOf(max) : addMonths(month, -1);
    keyboard.text('‹', monthCallback(target));
  } else {
    keyboard.text(BLANK, CALENDAR_NOOP);
  }
  keyboard.text(`${text.months[first.month - 1]} ${first.toFormat('yyyy')}`, CALENDAR_NOOP);
  if (anySelectable && max > lastIso) {
    const target = min > lastIso ? monthOf(min) : addMonths(month, 1);
    keyboard.text('›', monthCallback(target));
  } else {
    keyboard.text(BLANK, CALENDAR_NOOP);
  }
  keyboard.row();
  for (const weekday of text.weekdays) keyboard.text(weekday, CALENDAR_NOOP);

  // luxon's weekday is 1 = Monday … 7 = Sunday, so a month starting on Sunday pads six cells.
  const cells: Array<{ label: string; data: string }> = [];
  for (let i = 1; i < first.weekday; i++) cells.push({ label: BLANK, data: CALENDAR_NOOP });
  for (let day = 1; day <= last.day; day++) {
    const date = toIso(first.set({ day }));
    if (date < min || date > max) {
      cells.push({ label: String(day), data: CALENDAR_NOOP });
    } else {
      const mark = options.selected?.from === date ? FROM_MARK : DAY_MARKS[states.get(date) ?? 'never'];
      cells.push({ label: `${day}${mark}`, data: dayCallback(date) });
    }
  }
  while (cells.length % 7 !== 0) cells.push({ label: BLANK, data: CALENDAR_NOOP });
  for (const [i, cell] of cells.entries()) {
    if (i % 7 === 0) keyboard.row();
    keyboard.text(cell.label, cell.data);
  }
  keyboard.row().text(text.cancel, CALENDAR_CANCEL);
  return keyboard;
}

/**
 * Parses the callback data of a calendar button.
 * @returns undefined for anything the calendar does not emit: another prefix, malformed or
 *          impossible values (`cal:d:20250230`, month 13), data longer than 64 bytes.
 */
export function parseCalendarCallback(data: string): CalendarCallback | undefined {
  if (Buffer.byteLength(data, 'utf8') > MAX_CALLBACK_BYTES) return undefined;
  if (data === CALENDAR_NOOP) return { kind: 'noop' };
  if (data === CALENDAR_CANCEL) return { kind: 'cancel' };
  const day = DAY_DATA.exec(data);
  if (day) {
    const date = `${day[1]}-${day[2]}-${day[3]}`;
    return isIsoDate(date) ? { kind: 'day', date } : undefined;
  }
  const month = MONTH_DATA.exec(data);
  if (month) {
    const key = `${month[1]}-${month[2]}`;
    return MONTH_KEY.test(key) ? { kind: 'month', month: key } : undefined;
  }
  return undefined;
}
