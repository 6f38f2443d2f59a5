/**
 * Client-side pacing from VK's rate-limit headers. VK counts requests per user and method over a
 * calendar second, hour and day and reports what is left in `X-RateLimit-{RPS,Hourly,Daily}-Remaining`
 * on every response. Source: https://ads.vk.com/doc/api/info/Overview (rate limits), reference §1.6.
 */
import { DateTime } from 'luxon';
import { UpstreamHttpError } from '../../errors.js';
import { VK_UPSTREAM } from './schemas.js';

/** What the last response said about the remaining quota (undefined = header absent). */
export interface VkRateLimitReading {
  rpsRemaining: number | undefined;
  hourlyRemaining: number | undefined;
  dailyRemaining: number | undefined;
}

function headerInt(headers: Record<string, string>, name: string): number | undefined {
  const raw = headers[name];
  if (raw === undefined || !/^\s*-?\d+\s*$/.test(raw)) return undefined;
  return Number(raw);
}

/** Reads the three `X-RateLimit-*-Remaining` headers (header names lower-case). */
export function readRateLimitHeaders(headers: Record<string, string>): VkRateLimitReading {
  return {
    rpsRemaining: headerInt(headers, 'x-ratelimit-rps-remaining'),
    hourlyRemaining: headerInt(headers, 'x-ratelimit-hourly-remaining'),
    dailyRemaining: headerInt(headers, 'x-ratelimit-daily-remaining'),
  };
}

/**
 * Decides, before each call, whether to wait (per-second quota used up: 1 s) or to stop (hourly
 * or daily quota used up: sleeping for hours inside a run helps nobody, the next scheduled run
 * will continue).
 */
export class VkRateGate {
  private notBeforeMs = 0;
  private hourlyBlockedUntilMs = 0;
  private dailyBlockedUntilMs = 0;

  constructor(
    private readonly now: () => number,
    private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>,
  ) {}

  /** Records a response's headers. */
  observe(headers: Record<string, string>): void {
    const at = this.now();
    const r = readRateLimitHeaders(headers);
    if (r.rpsRemaining !== undefined && r.rpsRemaining <= 0) this.notBeforeMs = at + 1000;
    // The windows are aligned to calendar periods: the hourly one resets at the next full hour,
    // the daily one at the next Moscow midnight.
    if (r.hourlyRemaining !== undefined && r.hourlyRemaining <= 0) {
      this.hourlyBlockedUntilMs = Math.floor(at / 3_600_000 + 1) * 3_600_000;
    }
    if (r.dailyRemaining !== undefined && r.dailyRemaining <= 0) {
      this.dailyBlockedUntilMs = DateTime.fromMillis(at, { zone: 'Europe/Moscow' })
        .plus({ days: 1 })
        .startOf('day')
        .toMillis();
    }
  }

  /**
   * Waits out the per-second limit, or refuses the call when a longer quota is used up.
   * @param what the request about to be sent, for the message.
   * @throws UpstreamHttpError (status 429, code `HOURLY_QUOTA_EXHAUSTED` / `DAILY_QUOTA_EXHAUSTED`)
   */
  async beforeCall(what: string, signal?: AbortSignal): Promise<void> {
    const at = this.now();
    for (const [until, period, code] of [
      [this.dailyBlockedUntilMs, 'daily', 'DAILY_QUOTA_EXHAUSTED'],
      [this.hourlyBlockedUntilMs, 'hourly', 'HOURLY_QUOTA_EXHAUSTED'],
    ] as const) {
      if (at < until) {
        const resetsAt = DateTime.fromMillis(until, { zone: 'Europe/Moscow' }).toFormat('yyyy-MM-dd HH:mm');
        throw new UpstreamHttpError(
          VK_UPSTREAM,
          429,
          code,
          `${VK_UPSTREAM}: the ${period} VK Ads API quota is exhausted (X-RateLimit-${period === 'daily' ? 'Daily' : 'Hourly'}-Remaining: 0), ` +
            `so ${what} was not sent; it resets at ${resetsAt} MSK. Run the job again after that.`,
        );
      }
    }
    const waitMs = this.notBeforeMs - at;
    if (waitMs > 0) {
      await this.sleep(Math.min(waitMs, 1000), signal);
      this.notBeforeMs = 0;
    }
  }
}
