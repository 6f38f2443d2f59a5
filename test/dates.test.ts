import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import {
  businessDate,
  eachDay,
  parseIsoDate,
  chunkWindow,
  isIsoDate,
  resolveWindow,
  startOfDayIso,
  trailingWindow,
  unixToBusinessDate,
} from '../src/time/dates.js';

describe('business dates (MSK)', () => {
  it('rejects impossible calendar dates that ClickHouse would bind silently', () => {
    for (const bad of [
      '2025-02-30',
      '2024-13-45',
      '2025-2-3',
      '20250101',
      '',
      '2025-01-01T00:00',
      '２０２５-01-01',
    ]) {
      expect(isIsoDate(bad)).toBe(false);
    }
    expect(isIsoDate('2024-02-29')).toBe(true);
  });

  it('yesterday is the MSK yesterday, also when the UTC date is still the previous day', () => {
    const lateUtc = new Date('2026-11-29T22:30:00Z'); // 01:30 MSK on Nov 30
    expect(businessDate(lateUtc, 'Europe/Moscow')).toBe('2026-11-30');
    expect(trailingWindow(lateUtc, 'Europe/Moscow', 3)).toEqual({
      fromDate: '2026-11-27',
      toDate: '2026-11-29',
    });
    expect(trailingWindow(lateUtc, 'UTC', 1)).toEqual({ fromDate: '2026-11-28', toDate: '2026-11-28' });
  });

  it('resolves --from/--to against the default window and refuses reversed or huge ranges', () => {
    const fallback = { fromDate: '2026-11-27', toDate: '2026-11-29' };
    expect(resolveWindow({}, fallback, 366)).toEqual(fallback);
    expect(resolveWindow({ from: '2026-11-01' }, fallback, 366)).toEqual({
      fromDate: '2026-11-01',
      toDate: '2026-11-29',
    });
    expect(resolveWindow({ to: '2026-01-05' }, fallback, 366)).toEqual({
      fromDate: '2026-01-05',
      toDate: '2026-01-05',
    });
    expect(() => resolveWindow({ from: '2026-11-10', to: '2026-11-01' }, fallback, 366)).toThrow(UsageError);
    expect(() => resolveWindow({ from: '2024-01-01', to: '2026-01-01' }, fallback, 366)).toThrow(
      /at most 366/,
    );
  });

  it("refuses dates outside ClickHouse's Date range instead of storing them changed", () => {
    for (const bad of ['1969-12-30', '0000-01-01', '2149-06-07', '9999-12-31']) {
      expect(() => parseIsoDate(bad, '--from')).toThrow(/between 1970-01-01 and 2149-06-06/);
    }
    expect(parseIsoDate('2149-06-06', '--to')).toBe('2149-06-06');
    expect(eachDay({ fromDate: '2149-06-05', toDate: '2149-06-06' })).toEqual(['2149-06-05', '2149-06-06']);
  });

  it('chunks a window into consecutive pieces that cover it exactly', () => {
    expect(chunkWindow({ fromDate: '2026-01-30', toDate: '2026-02-10' }, 5)).toEqual([
      { fromDate: '2026-01-30', toDate: '2026-02-03' },
      { fromDate: '2026-02-04', toDate: '2026-02-08' },
      { fromDate: '2026-02-09', toDate: '2026-02-10' },
    ]);
  });

  it('renders QTickets filter bounds with the +03:00 offset and buckets instants by MSK date', () => {
    expect(startOfDayIso('2025-11-01', 'Europe/Moscow')).toBe('2025-11-01T00:00:00+03:00');
    // 2021-05-25T20:24:57+03:00 is an MSK date of 2021-05-25 (UTC+7 local would be the 26th).
    expect(unixToBusinessDate(Date.parse('2021-05-25T20:24:57+03:00') / 1000, 'Europe/Moscow')).toBe(
      '2021-05-25',
    );
  });
});
