/**
 * A schedule's cron expression as systemd calendar events (`OnCalendar=` values, systemd.time(7)),
 * so that `etl systemd render` gives the timers exactly the slots the bot's scheduler fires at.
 *
 * The cron dialect is croner's (the bot's scheduler), five fields `minute hour day-of-month month
 * day-of-week`: `*`, `?`, numbers, lists, ranges `a-b`, steps `*\/n` and `a-b/n`, month and
 * weekday names (`JAN`, `MON`; Sunday is 0 or 7), `L` in day-of-month (the last day), `n#k` and
 * `nL` in day-of-week (the k-th / the last weekday n of the month) and the `+` prefix on
 * day-of-week (day-of-month AND day-of-week). When both day fields are restricted (neither is
 * exactly `*`) and there is no `+`, a day matches when EITHER matches; one calendar event cannot
 * say "or", so that gives two `OnCalendar=` lines, whose union is the timer's schedule.
 * `W` and `LW` (nearest weekday) have no systemd equivalent and are refused.
 *
 * Times are wall-clock times in the given IANA zone, which systemd appends to each event. In a
 * zone with daylight saving time one case differs: a slot inside the hour skipped when clocks
 * spring forward fires at the end of the gap in croner, while systemd skips that day (a slot in
 * the repeated autumn hour fires once, at its first occurrence, in both). Europe/Moscow, the
 * default ETL_TIMEZONE, has no such hour.
 */
import { UsageError } from '../errors.js';

/** A cron expression that `cronToOnCalendar` cannot turn into systemd calendar events. */
export class CronNotExpressibleError extends UsageError {
  /**
   * @param cron the expression as given.
   * @param field which part is at fault (`minute`, `day-of-week`, … or `expression`).
   * @param reason what is wrong with it, in words.
   */
  constructor(
    readonly cron: string,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`cannot express the cron "${cron}" as a systemd OnCalendar: ${field}: ${reason}`);
  }
}

const WEEKDAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
/** systemd's weekday names, Monday first as systemd prints them; index = cron number mod 7. */
const SYSTEMD_WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  /** Lower-case names mapped to `min + index` (months) or `index` (weekdays). */
  names?: string[];
  namesFrom?: number;
}

const MINUTE: FieldSpec = { name: 'minute', min: 0, max: 59 };
const HOUR: FieldSpec = { name: 'hour', min: 0, max: 23 };
const DAY: FieldSpec = { name: 'day-of-month', min: 1, max: 31 };
const MONTH: FieldSpec = { name: 'month', min: 1, max: 12, names: MONTH_NAMES, namesFrom: 1 };
// 7 is Sunday too (folded to 0 below); croner's `*/n` steps over 0-6 only.
const WEEKDAY: FieldSpec = { name: 'day-of-week', min: 0, max: 7, names: WEEKDAY_NAMES, namesFrom: 0 };

/** Which occurrence of a weekday in its month: 1-5, or 'L' for the last one. */
type Nth = 1 | 2 | 3 | 4 | 5 | 'L';

/** One list item of a field, resolved: its values and, in day-of-week, its `#k`/`L` suffix. */
interface Item {
  values: number[];
  nth: Nth | undefined;
}

/**
 * Days a calendar event matches: `days` of the month (1-31), or `fromEnd` days counted from the
 * month's end (1 = the last day), or every day when both are undefined.
 */
interface DayTerm {
  /** Cron weekday numbers 0-6 (Sunday 0); undefined = any weekday. */
  weekdays?: Set<number>;
  days?: Set<number>;
  fromEnd?: Set<number>;
}

/**
 * Converts a 5-field cron expression (croner's dialect, as in SCHEDULE_*) to systemd calendar
 * events in `timezone`, e.g. `35 5 * * *` → [`*-*-* 05:35:00 Europe/Moscow`].
 * @param cron the expression; surrounding and repeated whitespace is ignored.
 * @param timezone IANA zone the expression is read in (ETL_TIMEZONE), appended to each event.
 * @returns one event, or several whose union is the schedule (day-of-month OR day-of-week);
 *   each is a valid `OnCalendar=` value, without duplicates.
 * @throws CronNotExpressibleError (a UsageError, exit 2), naming the field, for a malformed
 *   expression, for `W`/`LW`, for a `+` that ANDs days from the month's start with days from its
 *   end, and for a `+` combination that matches no day at all.
 */
export function cronToOnCalendar(cron: string, timezone: string): string[] {
  const parts = cron.trim().split(/\s+/);
  if (parts.length !== 5) {
    throw new CronNotExpressibleError(cron, 'expression', `expected 5 fields, got ${parts.length}`);
  }
  const [minuteText, hourText, domText, monthText, dowText] = parts.map((p) => p.replace(/\?/g, '*')) as [
    string,
    string,
    string,
    string,
    string,
  ];
  const fail = (field: FieldSpec | string, reason: string): never => {
    throw new CronNotExpressibleError(cron, typeof field === 'string' ? field : field.name, reason);
  };

  const minutes = plainValues(minuteText, MINUTE, fail);
  const hours = plainValues(hourText, HOUR, fail);
  const months = plainValues(monthText, MONTH, fail);

  // croner's rule: a day field is "any" only when it is exactly `*` (`L` items aside, `+` aside).
  const domStar =
    domText
      .split(',')
      .filter((p) => p.toUpperCase() !== 'L')
      .join(',') === '*';
  const domTerms = domStar ? undefined : dayOfMonthTerms(domText, fail);
  const andLogic = dowText.startsWith('+');
  const dowBody = andLogic ? dowText.slice(1) : dowText;
  if (andLogic && dowBody === '') fail(WEEKDAY, 'nothing after "+"');
  const dowTerms = dowBody === '*' ? undefined : dayOfWeekTerms(dowBody, fail);

  let terms: DayTerm[];
  if (domTerms === undefined && dowTerms === undefined) terms = [{}];
  else if (dowTerms === undefined) terms = domTerms ?? [];
  else if (domTerms === undefined) terms = dowTerms;
  else if (andLogic) terms = intersectTerms(domTerms, dowTerms, fail);
  else terms = [...domTerms, ...dowTerms];
  if (terms.length === 0) fail(WEEKDAY, `"+${dowBody}" and day-of-month "${domText}" share no day`);

  const time = `${formatValues(hours, HOUR)}:${formatValues(minutes, MINUTE)}:00`;
  const monthPart = formatValues(months, MONTH);
  const events = terms.map((term) => {
    const weekdays = term.weekdays && term.weekdays.size < 7 ? `${formatWeekdays(term.weekdays)} ` : '';
    const date =
      term.fromEnd !== undefined
        ? `*-${monthPart}~${formatValues(term.fromEnd, DAY)}`
        : `*-${monthPart}-${term.days ? formatValues(term.days, DAY) : '*'}`;
    return `${weekdays}${date} ${time} ${timezone}`;
  });
  return [...new Set(events)];
}

type Fail = (field: FieldSpec | string, reason: string) => never;

/** A field without day specials (minute, hour, month), as a sorted set of values. */
function plainValues(text: string, spec: FieldSpec, fail: Fail): Set<number> {
  const values = new Set<number>();
  for (const item of items(text, spec, fail)) {
    if (item.nth !== undefined) fail(spec, `"#" and "L" are only for day-of-week`);
    for (const v of item.values) values.add(v);
  }
  return values;
}

function dayOfMonthTerms(text: string, fail: Fail): DayTerm[] {
  const list = text.split(',');
  if (list.some((p) => /w/i.test(p))) {
    fail(DAY, `"${text}": W and LW (nearest weekday) have no systemd calendar equivalent`);
  }
  const terms: DayTerm[] = [];
  const plain = list.filter((p) => p.toUpperCase() !== 'L');
  if (plain.length > 0) {
    if (plain.some((p) => /l/i.test(p))) fail(DAY, `"${text}": L must stand alone in a list item`);
    terms.push({ days: plainValues(plain.join(','), DAY, fail) });
  }
  if (plain.length < list.length) terms.push({ fromEnd: new Set([1]) });
  return terms;
}

function dayOfWeekTerms(text: string, fail: Fail): DayTerm[] {
  // Weekdays every week, and weekdays restricted to their k-th / last occurrence in the month.
  const every = new Set<number>();
  const byNth = new Map<Nth, Set<number>>();
  for (const item of items(text, WEEKDAY, fail)) {
    for (const raw of item.values) {
      const day = raw % 7;
      if (item.nth === undefined) every.add(day);
      else byNth.set(item.nth, (byNth.get(item.nth) ?? new Set()).add(day));
    }
  }
  const terms: DayTerm[] = [];
  if (every.size > 0) terms.push({ weekdays: every });
  for (const [nth, weekdays] of byNth) {
    // A weekday listed plainly already matches every occurrence.
    const rest = new Set([...weekdays].filter((d) => !every.has(d)));
    if (rest.size === 0) continue;
    if (nth === 'L') terms.push({ weekdays: rest, fromEnd: range(1, 7) });
    else terms.push({ weekdays: rest, days: range(7 * (nth - 1) + 1, Math.min(7 * nth, 31)) });
  }
  return terms;
}

/** The `+` (AND) combination: every day-of-month term intersected with every weekday term. */
function intersectTerms(domTerms: DayTerm[], dowTerms: DayTerm[], fail: Fail): DayTerm[] {
  const out: DayTerm[] = [];
  for (const a of domTerms) {
    for (const b of dowTerms) {
      const term: DayTerm = { weekdays: b.weekdays };
      if ((a.days && b.fromEnd) || (a.fromEnd && b.days)) {
        fail(WEEKDAY, 'days counted from the month start AND from its end depend on the month length');
      }
      if (a.days || b.days) term.days = intersect(a.days, b.days);
      if (a.fromEnd || b.fromEnd) term.fromEnd = intersect(a.fromEnd, b.fromEnd);
      if (term.days?.size !== 0 && term.fromEnd?.size !== 0) out.push(term);
    }
  }
  return out;
}

function intersect(a: Set<number> | undefined, b: Set<number> | undefined): Set<number> {
  if (!a) return new Set(b);
  if (!b) return new Set(a);
  return new Set([...a].filter((v) => b.has(v)));
}

function range(from: number, to: number): Set<number> {
  const out = new Set<number>();
  for (let v = from; v <= to; v++) out.add(v);
  return out;
}

/** Parses a field's comma list the way croner does (see the module comment). */
function items(text: string, spec: FieldSpec, fail: Fail): Item[] {
  if (text === '') fail(spec, 'empty');
  return text.split(',').map((raw) => {
    let body = raw;
    let nth: Nth | undefined;
    // `#k` and a trailing `L` exist in day-of-week only; elsewhere they fail as "not a number".
    const hash = spec === WEEKDAY ? /^(.+)#(\d+)$/.exec(body) : null;
    if (hash) {
      const k = Number(hash[2]);
      if (k < 1 || k > 5) fail(spec, `"${raw}": the occurrence after # must be 1-5`);
      nth = k as Nth;
      body = hash[1] ?? '';
    } else if (spec === WEEKDAY && /^.+l$/i.test(body)) {
      nth = 'L';
      body = body.slice(0, -1);
    }
    const m = /^(\*|[a-z0-9]+)(?:-([a-z0-9]+))?(?:\/(\d+))?$/i.exec(body);
    if (!m) return fail(spec, `"${raw}" is not a number, name, range or step`);
    const [, fromText = '', toText, stepText] = m;
    const size = spec === WEEKDAY ? 7 : spec.max - spec.min + 1;
    const step = stepText === undefined ? 1 : Number(stepText);
    if (step < 1 || step > size) fail(spec, `"${raw}": the step must be 1-${size}`);
    let from: number;
    let to: number;
    if (fromText === '*') {
      if (toText !== undefined) fail(spec, `"${raw}" is not a range`);
      from = spec.min;
      to = spec === WEEKDAY ? 6 : spec.max;
    } else {
      if (stepText !== undefined && toText === undefined) {
        fail(spec, `"${raw}": a step needs "*" or a range before it (*/n or a-b/n)`);
      }
      from = valueOf(fromText, spec, raw, fail);
      // Sunday ending a weekday range is 7 (`fri-sun` = 5-7), as in croner.
      to =
        toText === undefined
          ? from
          : spec === WEEKDAY && toText.toLowerCase() === 'sun'
            ? 7
            : valueOf(toText, spec, raw, fail);
      if (from > to) fail(spec, `"${raw}": the range runs backwards`);
    }
    const values: number[] = [];
    for (let v = from; v <= to; v += step) values.push(v);
    return { values, nth };
  });
}

function valueOf(text: string, spec: FieldSpec, raw: string, fail: Fail): number {
  const named = spec.names?.indexOf(text.toLowerCase()) ?? -1;
  const value = named >= 0 ? named + (spec.namesFrom ?? 0) : /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (Number.isNaN(value)) return fail(spec, `"${raw}": "${text}" is not a number or a name`);
  if (value < spec.min || value > spec.max) {
    return fail(spec, `"${raw}": ${value} is outside ${spec.min}-${spec.max}`);
  }
  return value;
}

/**
 * A set of values in systemd's syntax: `*` for all, `a/s` or `a..b/s` for an even step, else a
 * list of numbers and `a..b` runs, two digits each.
 */
function formatValues(values: Set<number>, spec: FieldSpec): string {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === spec.max - spec.min + 1) return '*';
  const pad = (v: number) => String(v).padStart(2, '0');
  const first = sorted[0] ?? 0;
  const last = sorted.at(-1) ?? 0;
  const step = (sorted[1] ?? 0) - first;
  if (sorted.length >= 3 && step >= 2 && sorted.every((v, i) => v === first + i * step)) {
    return last + step > spec.max ? `${pad(first)}/${step}` : `${pad(first)}..${pad(last)}/${step}`;
  }
  return runs(sorted)
    .map(([a, b]) => (a === b ? pad(a) : b - a === 1 ? `${pad(a)},${pad(b)}` : `${pad(a)}..${pad(b)}`))
    .join(',');
}

/** Weekdays (cron numbers 0-6, Sunday 0) as systemd names, Monday first: `Mon..Fri`, `Sat,Sun`. */
function formatWeekdays(weekdays: Set<number>): string {
  const mondayFirst = [...weekdays].map((d) => (d === 0 ? 7 : d)).sort((a, b) => a - b);
  const name = (d: number) => SYSTEMD_WEEKDAYS[d % 7] ?? '';
  return runs(mondayFirst)
    .map(([a, b]) => (a === b ? name(a) : b - a === 1 ? `${name(a)},${name(b)}` : `${name(a)}..${name(b)}`))
    .join(',');
}

/** Consecutive runs of a sorted list, as [first, last] pairs. */
function runs(sorted: number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const v of sorted) {
    const current = out.at(-1);
    if (current && v === current[1] + 1) current[1] = v;
    else out.push([v, v]);
  }
  return out;
}
