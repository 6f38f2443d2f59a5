/**
 * The `/history` chart: durations and rows written per job per day over the trailing days, as a
 * PNG for Telegram. Pipeline: run records → daily totals → vega-lite spec → vega's headless
 * `View.toSVG()` (no canvas) → PNG by resvg. Text is drawn with the DejaVu Sans files of the
 * `dejavu-fonts-ttf` package and system fonts are never loaded, so Cyrillic labels render the
 * same on a bare CI machine as on a desktop.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { renderAsync, type ResvgRenderOptions } from '@resvg/resvg-js';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { RunRecord } from '../runner/runRecord.js';
import { addDays, businessDate, isValidZone, unixToBusinessDate, type IsoDate } from '../time/dates.js';

/** How to draw the chart. */
export interface ChartOptions {
  /** Language of titles, axes and legends (the bot's `BOT_LANGUAGE`). */
  language: 'ru' | 'en';
  /** IANA zone whose calendar days form the x axis, e.g. `Europe/Moscow` (`ETL_TIMEZONE`). */
  timezone: string;
  /** "Now" as unix ms; the last day shown is the day of this instant in `timezone`. */
  nowMs: number;
  /** Trailing days shown, today included; a positive integer. @default 30 */
  days?: number;
}

/** One job's runs on one day (a point of the chart). */
export interface DailyJobTotal {
  /** Day the runs started, `YYYY-MM-DD` in `ChartOptions.timezone`. */
  date: IsoDate;
  job: string;
  /** Runs started that day, failed ones included. */
  runs: number;
  /** Runs with status `error`. */
  failedRuns: number;
  /** Sum of the runs' durations, ms. */
  durationMs: number;
  /** Sum of the runs' rows written. */
  rowsWritten: number;
}

/** The font family vega lays text out with; the only family resvg knows. */
const FONT_FAMILY = 'DejaVu Sans';
const DEFAULT_DAYS = 30;
/** Width of one panel's plot area, px; with axes and the legend the PNG is about 1000 px wide. */
const PANEL_WIDTH_PX = 720;
const PANEL_HEIGHT_PX = 220;
/** Above this daily total the duration axis switches from seconds to minutes. */
const MINUTES_FROM_SECONDS = 600;
const FAILED_COLOR = '#d62728';
const DAY_MS = 86_400_000;

/** The parent row of a `/backfill` all-jobs run; its steps have their own rows. */
const BACKFILL_PARENT_JOB = 'backfill_all';

interface Labels {
  title: (days: number) => string;
  subtitle: (from: string, to: string, runs: number, failed: number) => string;
  date: (zoneLabel: string) => string;
  durationSeconds: string;
  durationMinutes: string;
  rows: string;
  job: string;
  failuresTitle: string;
  failuresEntry: string;
  empty: (days: number) => string;
  moscow: string;
  /** A `YYYY-MM-DD` date as readers of this language write it. */
  formatDate: (date: IsoDate) => string;
}

const LABELS: Record<ChartOptions['language'], Labels> = {
  ru: {
    title: (days) => `Задачи ETL за ${days} ${ruDays(days)}`,
    subtitle: (from, to, runs, failed) => `${from} – ${to} · запусков: ${runs}, с ошибкой: ${failed}`,
    date: (zone) => `Дата (${zone})`,
    durationSeconds: 'Длительность, с',
    durationMinutes: 'Длительность, мин',
    rows: 'Строк записано',
    job: 'Задача',
    failuresTitle: 'Сбои',
    failuresEntry: 'день с ошибкой',
    empty: (days) => `Нет запусков за ${days} ${ruDays(days)}`,
    moscow: 'МСК',
    formatDate: (date) => `${date.slice(8, 10)}.${date.slice(5, 7)}.${date.slice(0, 4)}`,
  },
  en: {
    title: (days) => `ETL jobs, last ${days} ${days === 1 ? 'day' : 'days'}`,
    subtitle: (from, to, runs, failed) => `${from} – ${to} · runs: ${runs}, failed: ${failed}`,
    date: (zone) => `Date (${zone})`,
    durationSeconds: 'Duration, s',
    durationMinutes: 'Duration, min',
    rows: 'Rows written',
    job: 'Job',
    failuresTitle: 'Failures',
    failuresEntry: 'day with a failure',
    empty: (days) => `No runs in the last ${days} ${days === 1 ? 'day' : 'days'}`,
    moscow: 'MSK',
    formatDate: (date) => date,
  },
};

/** Russian plural of «день» after a number: 1 день, 2 дня, 5 дней, 21 день, 11 дней. */
function ruDays(n: number): string {
  const lastTwo = n % 100;
  const last = n % 10;
  if (lastTwo >= 11 && lastTwo <= 14) return 'дней';
  if (last === 1) return 'день';
  if (last >= 2 && last <= 4) return 'дня';
  return 'дней';
}

/** d3-format locales: Russian groups thousands with a no-break space and uses a decimal comma. */
const NUMBER_LOCALES = {
  ru: { decimal: ',', thousands: '\u00a0', grouping: [3], currency: ['', '\u00a0₽'] as [string, string] },
  en: { decimal: '.', thousands: ',', grouping: [3], currency: ['$', ''] as [string, string] },
};

interface ChartWindow {
  fromDate: IsoDate;
  toDate: IsoDate;
  days: number;
}

/** @throws RangeError for options no caller should pass (see `renderRunsChart`). */
function chartWindow(options: ChartOptions): ChartWindow {
  const days = options.days ?? DEFAULT_DAYS;
  if (!Number.isInteger(days) || days < 1) {
    throw new RangeError(`chart: days must be a positive integer, got ${String(options.days)}`);
  }
  if (!isValidZone(options.timezone)) {
    throw new RangeError(
      `chart: timezone must be an IANA zone such as Europe/Moscow, got "${options.timezone}"`,
    );
  }
  if (!Number.isFinite(options.nowMs)) {
    throw new RangeError(`chart: nowMs must be unix milliseconds, got ${String(options.nowMs)}`);
  }
  const toDate = businessDate(new Date(options.nowMs), options.timezone);
  return { fromDate: addDays(toDate, -(days - 1)), toDate, days };
}

/** A count or sum from a record; a missing or corrupt value counts as 0 rather than NaN-ing the day. */
function amount(value: number): number {
  return Number.isFinite(value) && value > 0 ? value : 0;
}

/**
 * Groups runs into one total per job per day of the window, ordered by date, then job.
 * Runs outside the trailing window are dropped, and so are `backfill_all` parent rows
 * (`parentRunId` null): their time and rows are already in their step runs' rows.
 * @param runs records as read from `meta.etl_runs`, any order.
 * @throws RangeError for invalid options (see `renderRunsChart`).
 */
export function dailyRunTotals(runs: readonly RunRecord[], options: ChartOptions): DailyJobTotal[] {
  const window = chartWindow(options);
  const totals = new Map<string, DailyJobTotal>();
  for (const run of runs) {
    if (run.job === BACKFILL_PARENT_JOB && run.parentRunId === null) continue;
    const date = unixToBusinessDate(run.startedAt, options.timezone);
    if (date < window.fromDate || date > window.toDate) continue;
    const key = `${date}\u0000${run.job}`;
    let total = totals.get(key);
    if (total === undefined) {
      total = { date, job: run.job, runs: 0, failedRuns: 0, durationMs: 0, rowsWritten: 0 };
      totals.set(key, total);
    }
    total.runs += 1;
    if (run.status === 'error') total.failedRuns += 1;
    total.durationMs += amount(run.durationMs);
    total.rowsWritten += amount(run.rowsWritten);
  }
  return [...totals.values()].sort((a, b) =>
    a.date === b.date ? (a.job < b.job ? -1 : a.job > b.job ? 1 : 0) : a.date < b.date ? -1 : 1,
  );
}

/** Midnight UTC of a calendar date, ms: the x value, drawn on a UTC scale so the label is that date. */
function dayMs(date: IsoDate): number {
  return Date.parse(`${date}T00:00:00Z`);
}

/**
 * The vega-lite spec of the chart: title with the window and run counts, then two panels sharing
 * the x axis (days of the window) and the job colours: (a) total duration per job per day, in
 * seconds, or minutes when a day's total exceeds 10 minutes; (b) rows written per job per day.
 * A red ring marks a job's day with at least one failed run. Without runs in the window the spec
 * is a single text panel saying so. Exposed for tests; callers want `renderRunsChart`.
 * @throws RangeError for invalid options (see `renderRunsChart`).
 */
export function runsChartSpec(runs: readonly RunRecord[], options: ChartOptions): TopLevelSpec {
  const window = chartWindow(options);
  const labels = LABELS[options.language];
  const totals = dailyRunTotals(runs, options);
  const config = {
    font: FONT_FAMILY,
    locale: { number: NUMBER_LOCALES[options.language] },
    title: { anchor: 'start' as const, fontSize: 16, subtitleFontSize: 12, subtitleColor: '#555' },
    // Job identifiers run to ~25 characters; vega's estimated text widths would cut them at 160 px.
    legend: { labelLimit: 260 },
  };
  const runCount = totals.reduce((n, t) => n + t.runs, 0);
  const failedCount = totals.reduce((n, t) => n + t.failedRuns, 0);
  const from = labels.formatDate(window.fromDate);
  const to = labels.formatDate(window.toDate);
  const title = {
    text: labels.title(window.days),
    subtitle: labels.subtitle(from, to, runCount, failedCount),
  };

  if (totals.length === 0) {
    return {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: { text: title.text, subtitle: `${from} – ${to}` },
      background: 'white',
      padding: 16,
      config,
      width: PANEL_WIDTH_PX,
      height: PANEL_HEIGHT_PX,
      data: { values: [{ text: labels.empty(window.days) }] },
      mark: { type: 'text', fontSize: 18, color: '#555' },
      encoding: {
        text: { field: 'text', type: 'nominal' },
        x: { value: PANEL_WIDTH_PX / 2 },
        y: { value: PANEL_HEIGHT_PX / 2 },
      },
      view: { stroke: '#ddd' },
    };
  }

  const maxDurationS = Math.max(...totals.map((t) => t.durationMs / 1000));
  const inMinutes = maxDurationS > MINUTES_FROM_SECONDS;
  const values = totals.map((t) => ({
    dayMs: dayMs(t.date),
    job: t.job,
    duration: t.durationMs / 1000 / (inMinutes ? 60 : 1),
    rowsWritten: t.rowsWritten,
    runs: t.runs,
    failedRuns: t.failedRuns,
    failed: labels.failuresEntry,
  }));
  const zoneLabel = options.timezone === 'Europe/Moscow' ? labels.moscow : options.timezone;
  // Half a day of padding so the first and last days' points are not cut by the plot edge.
  const x = {
    field: 'dayMs',
    type: 'temporal' as const,
    title: labels.date(zoneLabel),
    scale: {
      type: 'utc' as const,
      domain: [dayMs(window.fromDate) - DAY_MS / 2, dayMs(window.toDate) + DAY_MS / 2],
    },
    axis: { format: '%d.%m', labelAngle: 0, tickCount: Math.min(window.days, 15) },
  };
  const color = { field: 'job', type: 'nominal' as const, title: labels.job };
  const panel = (field: 'duration' | 'rowsWritten', axisTitle: string) => ({
    width: PANEL_WIDTH_PX,
    height: PANEL_HEIGHT_PX,
    encoding: { x, y: { field, type: 'quantitative' as const, title: axisTitle } },
    layer: [
      { mark: { type: 'line' as const, strokeWidth: 1.5 }, encoding: { color } },
      { mark: { type: 'point' as const, filled: true, size: 36, opacity: 1 }, encoding: { color } },
      {
        transform: [{ filter: 'datum.failedRuns > 0' }],
        mark: { type: 'point' as const, filled: false, size: 220, strokeWidth: 2.5, color: FAILED_COLOR },
        encoding: {
          shape: {
            field: 'failed',
            type: 'nominal' as const,
            title: labels.failuresTitle,
            // Domain left to the data: with no failed run there is no legend entry claiming one.
            scale: { range: ['circle'] },
          },
        },
      },
    ],
  });

  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    background: 'white',
    padding: 16,
    config,
    data: { values },
    vconcat: [
      panel('duration', inMinutes ? labels.durationMinutes : labels.durationSeconds),
      panel('rowsWritten', labels.rows),
    ],
    resolve: { scale: { color: 'shared', shape: 'shared' } },
  };
}

/**
 * The chart as an SVG document, laid out by vega's headless view (text widths estimated, no
 * canvas). Exposed for tests; callers want `renderRunsChart`.
 * @throws RangeError for invalid options (see `renderRunsChart`).
 */
export async function runsChartSvg(runs: readonly RunRecord[], options: ChartOptions): Promise<string> {
  const spec = runsChartSpec(runs, options);
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * resvg's font settings for the chart: DejaVu Sans (regular and bold, full Cyrillic) from the
 * `dejavu-fonts-ttf` package, and no system fonts, so the PNG is the same on every machine.
 * Exposed for tests.
 */
export function chartFontOptions(): NonNullable<ResvgRenderOptions['font']> {
  const require = createRequire(import.meta.url);
  const ttfDir = path.join(path.dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
  return {
    fontFiles: [path.join(ttfDir, 'DejaVuSans.ttf'), path.join(ttfDir, 'DejaVuSans-Bold.ttf')],
    loadSystemFonts: false,
    defaultFontFamily: FONT_FAMILY,
    sansSerifFamily: FONT_FAMILY,
  };
}

/**
 * Renders the `/history` chart of the trailing `days` days (today in `timezone` included) as a
 * PNG about 1000 px wide on a white background: total duration and rows written per job per day,
 * failed runs ringed in red. Parent rows of `/backfill` all-jobs runs are left out so their steps
 * are not counted twice. With no runs in the window the PNG says so instead of throwing.
 * The PNG is rasterised on libuv's thread pool, so the event loop stays free.
 * @param runs records from `meta.etl_runs` (times unix seconds, durations ms), any order; runs
 *   outside the window are ignored.
 * @returns PNG bytes, ready for `InputFile`.
 * @throws RangeError only on programming errors: `days` not a positive integer, `timezone` not an
 *   IANA zone, `nowMs` not finite (config validation rules these out). Anything vega or resvg
 *   throws would also be a bug in the spec, not a data problem.
 */
export async function renderRunsChart(runs: RunRecord[], options: ChartOptions): Promise<Buffer> {
  const svg = await runsChartSvg(runs, options);
  const image = await renderAsync(svg, { font: chartFontOptions(), background: 'white' });
  return image.asPng();
}
