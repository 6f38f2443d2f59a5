import { Resvg, type ResvgRenderOptions } from '@resvg/resvg-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  chartFontOptions,
  dailyRunTotals,
  renderRunsChart,
  runsChartSvg,
  type ChartOptions,
} from '../src/bot/chart.js';
import type { RunRecord } from '../src/runner/runRecord.js';

/** 15:00 MSK on 2026-11-30: the chart's window is 2026-11-01..2026-11-30. */
const NOW_MS = Date.parse('2026-11-30T12:00:00Z');
const RU: ChartOptions = { language: 'ru', timezone: 'Europe/Moscow', nowMs: NOW_MS };
const EN: ChartOptions = { ...RU, language: 'en' };
const JOBS = ['load_vk_ads', 'load_qtickets', 'build_dm_vk', 'build_dm_sales', 'run_checks'];

let nextRunId = 0;
function run(overrides: Partial<RunRecord> & Pick<RunRecord, 'job' | 'startedAt'>): RunRecord {
  const durationMs = overrides.durationMs ?? 30_000;
  return {
    runId: `run-${++nextRunId}`,
    finishedAt: overrides.startedAt + Math.round(durationMs / 1000),
    status: 'ok',
    rowsWritten: 1_000,
    rowsRead: 1_000,
    errMsg: '',
    fromDate: '2026-11-01',
    toDate: '2026-11-01',
    host: 'etl-1',
    versionTag: 'test',
    trigger: 'schedule',
    actor: 'cron',
    parentRunId: null,
    durationMs,
    pid: 1,
    ...overrides,
  };
}

/** Unix seconds of an instant written in ISO form. */
function at(iso: string): number {
  return Date.parse(iso) / 1000;
}

/** One run per job per day for the whole window, a few of them failed. */
function month(): RunRecord[] {
  const runs: RunRecord[] = [];
  for (let day = 0; day < 30; day++) {
    JOBS.forEach((job, i) => {
      runs.push(
        run({
          job,
          startedAt: at('2026-11-30T03:00:00Z') - day * 86_400,
          durationMs: (20 + i * 15 + ((day * 7 + i) % 11)) * 1000,
          rowsWritten: (i + 1) * 2_000 + ((day * 131) % 900),
          status: (day + i) % 9 === 0 ? 'error' : 'ok',
        }),
      );
    });
  }
  return runs;
}

function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(png.subarray(12, 16).toString('ascii')).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/** Pixels of an SVG rendered by resvg on white that are not (nearly) white. */
function inkedPixels(svg: string, font: ResvgRenderOptions['font']): number {
  const { pixels } = new Resvg(svg, { font, background: 'white' }).render();
  let inked = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    if (pixels[i]! < 200 || pixels[i + 1]! < 200 || pixels[i + 2]! < 200) inked += 1;
  }
  return inked;
}

const NO_FONTS: ResvgRenderOptions['font'] = { loadSystemFonts: false, fontFiles: [] };
const CYRILLIC = /[\u0400-\u04ff]/;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('/history chart', () => {
  it('is a PNG about 1000 px wide for 30 days of five jobs, drawn without vega warnings', async () => {
    const warn = vi.spyOn(console, 'warn');
    const png = await renderRunsChart(month(), RU);
    const { width, height } = pngSize(png);
    expect(width).toBeGreaterThanOrEqual(800);
    expect(width).toBeLessThanOrEqual(1100);
    expect(height).toBeGreaterThanOrEqual(400);
    expect(height).toBeLessThanOrEqual(900);
    expect(warn).not.toHaveBeenCalled();
  });

  it('labels everything in Russian by default, with the days as MSK dates', async () => {
    const svg = await runsChartSvg(month(), RU);
    for (const text of [
      'Задачи ETL за 30 дней',
      '01.11.2026 – 30.11.2026 · запусков: 150, с ошибкой: 16',
      'Длительность, с',
      'Строк записано',
      'Дата (МСК)',
      'Задача',
      '01.11',
      'build_dm_sales',
    ]) {
      expect(svg).toContain(text);
    }
    expect(svg).toContain('font-family="DejaVu Sans"');
    expect(svg).not.toMatch(/Duration|Rows written|Date \(/);
  });

  it('draws the Russian labels: DejaVu Sans from the package has Cyrillic glyphs, without system fonts', async () => {
    const glyphs =
      '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="60">' +
      '<text x="10" y="40" font-family="DejaVu Sans" font-size="24">Длительность</text></svg>';
    expect(inkedPixels(glyphs, chartFontOptions())).toBeGreaterThan(300);
    expect(inkedPixels(glyphs, NO_FONTS)).toBe(0);

    // The same holds for the chart: its titles and labels add ink only through the package font.
    const chart = await runsChartSvg([], RU);
    expect(inkedPixels(chart, chartFontOptions())).toBeGreaterThan(inkedPixels(chart, NO_FONTS) + 1_000);
  });

  it('labels everything in English when the bot speaks English', async () => {
    const svg = await runsChartSvg(month(), EN);
    for (const text of [
      'ETL jobs, last 30 days',
      '2026-11-01 – 2026-11-30 · runs: 150, failed: 16',
      'Duration, s',
      'Rows written',
      'Date (MSK)',
      'Job',
    ]) {
      expect(svg).toContain(text);
    }
    expect(svg).not.toMatch(CYRILLIC);
  });

  it('rings failed days with a legend entry, and shows no failure legend when all runs succeeded', async () => {
    const failing = await runsChartSvg(
      [
        run({ job: 'load_vk_ads', startedAt: at('2026-11-28T03:00:00Z') }),
        run({ job: 'load_vk_ads', startedAt: at('2026-11-29T03:00:00Z'), status: 'error', rowsWritten: 0 }),
      ],
      RU,
    );
    expect(failing).toContain('день с ошибкой');
    expect(failing).toContain('#d62728');

    const clean = await runsChartSvg(
      [run({ job: 'load_vk_ads', startedAt: at('2026-11-29T03:00:00Z') })],
      RU,
    );
    expect(clean).not.toContain('день с ошибкой');
    expect(clean).not.toContain('#d62728');
  });

  it('still sends a PNG, saying there were no runs, when the window is empty', async () => {
    const { width, height } = pngSize(await renderRunsChart([], RU));
    expect(width).toBeGreaterThan(500);
    expect(height).toBeGreaterThan(200);

    const old = [run({ job: 'load_vk_ads', startedAt: at('2026-10-01T03:00:00Z') })];
    expect(await runsChartSvg(old, RU)).toContain('Нет запусков за 30 дней');
    expect(await runsChartSvg([], { ...EN, days: 7 })).toContain('No runs in the last 7 days');
  });

  it('does not count a /backfill twice: the backfill_all parent row is left out, its steps stay', async () => {
    const parent = run({
      job: 'backfill_all',
      runId: 'parent',
      startedAt: at('2026-11-20T09:00:00Z'),
      durationMs: 100_000,
      rowsWritten: 300,
      trigger: 'backfill',
    });
    const steps = [
      run({
        job: 'load_vk_ads',
        startedAt: parent.startedAt,
        durationMs: 40_000,
        rowsWritten: 100,
        parentRunId: 'parent',
      }),
      run({
        job: 'build_dm_vk',
        startedAt: parent.startedAt + 40,
        durationMs: 60_000,
        rowsWritten: 200,
        parentRunId: 'parent',
      }),
    ];

    const totals = dailyRunTotals([parent, ...steps], RU);
    expect(totals).toEqual([
      {
        date: '2026-11-20',
        job: 'build_dm_vk',
        runs: 1,
        failedRuns: 0,
        durationMs: 60_000,
        rowsWritten: 200,
      },
      {
        date: '2026-11-20',
        job: 'load_vk_ads',
        runs: 1,
        failedRuns: 0,
        durationMs: 40_000,
        rowsWritten: 100,
      },
    ]);
    const svg = await runsChartSvg([parent, ...steps], RU);
    expect(svg).not.toContain('backfill_all');
    expect(svg).toContain('запусков: 2, с ошибкой: 0');

    // Only the parent in the window: nothing to draw.
    expect(await runsChartSvg([parent], RU)).toContain('Нет запусков');
  });

  it('buckets runs by MSK day, sums per job and day, and drops runs outside the window', () => {
    const totals = dailyRunTotals(
      [
        run({ job: 'load_vk_ads', startedAt: at('2026-11-29T22:30:00Z'), durationMs: 1_000, rowsWritten: 5 }), // 01:30 MSK, Nov 30
        run({
          job: 'load_vk_ads',
          startedAt: at('2026-11-30T08:00:00Z'),
          durationMs: 2_000,
          rowsWritten: 7,
          status: 'error',
        }),
        run({ job: 'load_vk_ads', startedAt: at('2026-11-29T20:30:00Z'), durationMs: 4_000, rowsWritten: 1 }), // 23:30 MSK, Nov 29
        run({ job: 'load_vk_ads', startedAt: at('2026-10-31T20:59:59Z') }), // 23:59:59 MSK, Oct 31: before the window
        run({ job: 'load_vk_ads', startedAt: at('2026-11-30T21:00:00Z') }), // Dec 1 MSK: after "now"
      ],
      RU,
    );
    expect(totals).toEqual([
      { date: '2026-11-29', job: 'load_vk_ads', runs: 1, failedRuns: 0, durationMs: 4_000, rowsWritten: 1 },
      { date: '2026-11-30', job: 'load_vk_ads', runs: 2, failedRuns: 1, durationMs: 3_000, rowsWritten: 12 },
    ]);
    expect(
      dailyRunTotals([run({ job: 'x', startedAt: at('2026-11-29T03:00:00Z') })], { ...RU, days: 1 }),
    ).toEqual([]);
  });

  it('switches the duration axis to minutes when a day takes longer than ten minutes', async () => {
    const slow = [
      run({ job: 'build_dm_sales', startedAt: at('2026-11-29T03:00:00Z'), durationMs: 30 * 60_000 }),
    ];
    expect(await runsChartSvg(slow, RU)).toContain('Длительность, мин');
    expect(await runsChartSvg(slow, EN)).toContain('Duration, min');
  });

  it('refuses options only a programming error would produce', async () => {
    await expect(renderRunsChart([], { ...RU, days: 0 })).rejects.toThrow(RangeError);
    await expect(renderRunsChart([], { ...RU, days: 2.5 })).rejects.toThrow(
      /days must be a positive integer, got 2.5/,
    );
    await expect(renderRunsChart([], { ...RU, timezone: 'Moscow' })).rejects.toThrow(/"Moscow"/);
    await expect(renderRunsChart([], { ...RU, nowMs: Number.NaN })).rejects.toThrow(/nowMs/);
  });
});
