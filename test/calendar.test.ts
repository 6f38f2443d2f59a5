/**
 * The /backfill month calendar, pure: layout (Monday first), bounds, navigation, languages,
 * state marks, and the callback data it emits and parses back.
 */
import type { InlineKeyboardButton } from 'grammy/types';
import { describe, expect, it } from 'vitest';
import {
  CALENDAR_LEGEND,
  DAY_MARKS,
  addMonths,
  monthKeyboard,
  parseCalendarCallback,
  type DayState,
  type MonthKeyboardOptions,
} from '../src/bot/calendar.js';

const NONE = new Map<string, DayState>();
/** The label of empty cells and disabled navigation (not whitespace: Telegram refuses that). */
const BLANK = '\u2800';

function keyboard(overrides: Partial<MonthKeyboardOptions> = {}) {
  return monthKeyboard({
    month: '2026-11',
    language: 'ru',
    states: NONE,
    min: '2025-01-01',
    max: '2026-11-29',
    ...overrides,
  }).inline_keyboard;
}

function data(button: InlineKeyboardButton): string {
  if (!('callback_data' in button)) throw new Error(`not a callback button: ${JSON.stringify(button)}`);
  return button.callback_data;
}

/** The day rows only (between the weekday row and Cancel), as [label, data] pairs. */
function grid(rows: InlineKeyboardButton[][]): Array<Array<[string, string]>> {
  return rows.slice(2, -1).map((row) => row.map((b) => [b.text, data(b)]));
}

function dayButton(rows: InlineKeyboardButton[][], day: number): [string, string] {
  const cell = grid(rows)
    .flat()
    .find(([label]) => new RegExp(`^${day}(\\D|$)`).test(label));
  if (!cell) throw new Error(`day ${day} not found`);
  return cell;
}

describe('monthKeyboard', () => {
  it('keeps every callback data of every month over 30 years within 64 bytes and parseable, every label non-blank', () => {
    let month = '2000-01';
    const all: string[] = [];
    const labels: string[] = [];
    for (let i = 0; i < 30 * 12; i++) {
      const rows = monthKeyboard({
        month,
        language: 'ru',
        states: NONE,
        min: '1999-01-01',
        max: '2040-12-31',
        selected: { from: `${month}-15` },
      }).inline_keyboard;
      all.push(...rows.flat().map(data));
      labels.push(...rows.flat().map((b) => b.text));
      month = addMonths(month, 1);
    }
    expect(month).toBe('2030-01');
    expect(all.length).toBeGreaterThan(30 * 12 * 40);
    expect(Math.max(...all.map((d) => Buffer.byteLength(d, 'utf8')))).toBeLessThanOrEqual(14);
    expect(all.filter((d) => parseCalendarCallback(d) === undefined)).toEqual([]);
    expect(labels.filter((t) => t.trim() === '')).toEqual([]);
    expect(all.filter((d) => d.startsWith('cal:d:'))).toHaveLength(10_958); // every day of 2000–2029
  });

  it('lays out a month that starts on a Sunday Monday-first: six blanks, then the 1st under Вс', () => {
    // 2026-11-01 is a Sunday; November has 30 days, so the grid needs six weeks.
    const rows = keyboard({ month: '2026-11', min: '2026-11-01', max: '2026-11-30' });
    expect(rows[1]!.map((b) => b.text)).toEqual(['Пн', 'Вт', 'Ср', 'Чт', 'Пт', 'Сб', 'Вс']);
    const weeks = grid(rows);
    expect(weeks).toHaveLength(6);
    for (const week of weeks) expect(week).toHaveLength(7);
    expect(weeks[0]!.slice(0, 6)).toEqual(Array(6).fill([BLANK, 'cal:_']));
    expect(weeks[0]![6]).toEqual(['1·', 'cal:d:20261101']);
    expect(weeks[1]![0]).toEqual(['2·', 'cal:d:20261102']);
    expect(weeks[5]![0]).toEqual(['30·', 'cal:d:20261130']);
    expect(weeks[5]!.slice(1)).toEqual(Array(6).fill([BLANK, 'cal:_']));
    // A month starting on Monday has no leading blanks (2026-06-01 is a Monday).
    expect(grid(keyboard({ month: '2026-06', min: '2026-06-01' }))[0]![0]).toEqual(['1·', 'cal:d:20260601']);
  });

  it('shows days beyond max or before min without a mark and makes them no-ops', () => {
    const rows = keyboard({ month: '2026-11', min: '2026-11-05', max: '2026-11-20' });
    expect(dayButton(rows, 4)).toEqual(['4', 'cal:_']);
    expect(dayButton(rows, 5)).toEqual(['5·', 'cal:d:20261105']);
    expect(dayButton(rows, 20)).toEqual(['20·', 'cal:d:20261120']);
    expect(dayButton(rows, 21)).toEqual(['21', 'cal:_']); // the future, or beyond the VK horizon
    expect(dayButton(rows, 30)).toEqual(['30', 'cal:_']);
    const selectable = grid(rows)
      .flat()
      .filter(([, d]) => d.startsWith('cal:d:'));
    expect(selectable).toHaveLength(16);
  });

  it('marks each selectable day with its state, and the chosen start with 📍', () => {
    const states = new Map<string, DayState>([
      ['2026-11-02', 'ok'],
      ['2026-11-03', 'failed'],
      ['2026-11-04', 'zero'],
      ['2026-11-05', 'never'],
    ]);
    const rows = keyboard({ states, selected: { from: '2026-11-06' } });
    expect(dayButton(rows, 2)[0]).toBe(`2${DAY_MARKS.ok}`);
    expect(dayButton(rows, 3)[0]).toBe(`3${DAY_MARKS.failed}`);
    expect(dayButton(rows, 4)[0]).toBe(`4${DAY_MARKS.zero}`);
    expect(dayButton(rows, 5)[0]).toBe(`5${DAY_MARKS.never}`);
    expect(dayButton(rows, 6)).toEqual(['6📍', 'cal:d:20261106']);
    expect(dayButton(rows, 7)[0]).toBe(`7${DAY_MARKS.never}`); // no entry: never loaded
    expect(new Set(Object.values(DAY_MARKS)).size).toBe(4);
    for (const lang of ['ru', 'en'] as const) {
      for (const mark of Object.values(DAY_MARKS)) expect(CALENDAR_LEGEND[lang]).toContain(mark);
    }
  });

  it('names the month and weekdays in the chat language, and ends with Cancel', () => {
    const ru = keyboard({ month: '2026-11' });
    expect(ru[0]![1]).toMatchObject({ text: 'Ноябрь 2026', callback_data: 'cal:_' });
    expect(ru.at(-1)).toEqual([{ text: '✖ Отмена', callback_data: 'cal:x' }]);
    const en = keyboard({ month: '2026-02', language: 'en' });
    expect(en[0]![1]!.text).toBe('February 2026');
    expect(en[1]!.map((b) => b.text)).toEqual(['Mo', 'Tu', 'We', 'Th', 'Fr', 'Sa', 'Su']);
    expect(en.at(-1)![0]!.text).toBe('✖ Cancel');
    expect(keyboard({ month: '2027-01' })[0]![1]!.text).toBe('Январь 2027');
  });

  it('navigates only towards months with selectable days, jumping over empty ones', () => {
    const nav = (month: string, min: string, max: string) => {
      const header = monthKeyboard({ month, language: 'en', states: NONE, min, max }).inline_keyboard[0]!;
      return [header[0]!, header[2]!].map((b) => `${b.text} ${data(b)}`);
    };
    // Inside the range: both ways, one month at a time, across a year boundary.
    expect(nav('2026-01', '2025-06-10', '2026-11-29')).toEqual(['‹ cal:m:202512', '› cal:m:202602']);
    // The month holding max: no ›. The month holding min: no ‹.
    expect(nav('2026-11', '2025-06-10', '2026-11-29')).toEqual(['‹ cal:m:202610', `${BLANK} cal:_`]);
    expect(nav('2025-06', '2025-06-10', '2026-11-29')).toEqual([`${BLANK} cal:_`, '› cal:m:202507']);
    // A single selectable month: no navigation at all.
    expect(nav('2026-11', '2026-11-01', '2026-11-29')).toEqual([`${BLANK} cal:_`, `${BLANK} cal:_`]);
    // min falls on the 1st of the month shown: nothing before it.
    expect(nav('2026-11', '2026-11-01', '2026-12-05')).toEqual([`${BLANK} cal:_`, '› cal:m:202612']);
    // Shown far after the range: ‹ jumps to max's month; far before: › jumps to min's month.
    expect(nav('2030-03', '2025-06-10', '2026-11-29')).toEqual(['‹ cal:m:202611', `${BLANK} cal:_`]);
    expect(nav('2020-03', '2025-06-10', '2026-11-29')).toEqual([`${BLANK} cal:_`, '› cal:m:202506']);
    // An empty range (min after max): nothing to navigate to, nothing to pick.
    const empty = monthKeyboard({
      month: '2026-11',
      language: 'en',
      states: NONE,
      min: '2026-11-20',
      max: '2026-11-10',
    }).inline_keyboard;
    expect(nav('2026-11', '2026-11-20', '2026-11-10')).toEqual([`${BLANK} cal:_`, `${BLANK} cal:_`]);
    expect(
      grid(empty)
        .flat()
        .filter(([, d]) => d !== 'cal:_'),
    ).toEqual([]);
  });

  it('refuses a malformed month or bound, naming the value', () => {
    expect(() => keyboard({ month: '2026-13' })).toThrow(/month must be YYYY-MM, got "2026-13"/);
    expect(() => keyboard({ max: '2026-02-30' })).toThrow(/max must be a real date.*"2026-02-30"/);
  });
});

describe('parseCalendarCallback', () => {
  it('round-trips the data of every button it emits', () => {
    expect(parseCalendarCallback('cal:d:20261101')).toEqual({ kind: 'day', date: '2026-11-01' });
    expect(parseCalendarCallback('cal:d:20240229')).toEqual({ kind: 'day', date: '2024-02-29' });
    expect(parseCalendarCallback('cal:m:202612')).toEqual({ kind: 'month', month: '2026-12' });
    expect(parseCalendarCallback('cal:_')).toEqual({ kind: 'noop' });
    expect(parseCalendarCallback('cal:x')).toEqual({ kind: 'cancel' });
    for (const row of keyboard({ min: '2026-10-15', max: '2026-12-10' })) {
      for (const button of row) {
        const parsed = parseCalendarCallback(data(button));
        if (parsed?.kind === 'day') expect(data(button)).toBe(`cal:d:${parsed.date.replaceAll('-', '')}`);
        if (parsed?.kind === 'month') expect(data(button)).toBe(`cal:m:${parsed.month.replace('-', '')}`);
      }
    }
  });

  it('rejects impossible dates and months, garbage, other prefixes and overlong data', () => {
    for (const bad of [
      'cal:d:20250230', // 30 February
      'cal:d:20250229', // not a leap year
      'cal:d:20251301',
      'cal:d:20251100',
      'cal:d:2025111',
      'cal:d:202511011',
      'cal:d:2025-11-01',
      'cal:m:202513',
      'cal:m:202500',
      'cal:m:20251',
      'cal:m:2025-11',
      'cal:',
      'cal:_x',
      'cal:x ',
      ' cal:x',
      'cal:y',
      'menu/0/1',
      '',
      'cal:d:20251101' + 'x'.repeat(60),
      `cal:${'_'.repeat(100)}`,
      'cal:d:２０２５１１０１',
    ]) {
      expect(parseCalendarCallback(bad), bad).toBeUndefined();
    }
  });
});
