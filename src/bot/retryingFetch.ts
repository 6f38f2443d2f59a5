/**
 * The bot's HTTP seam: grammY's own client (node-fetch) wrapped so that every Bot API call —
 * including those made inside conversations, which bypass `bot.api` transformers such as
 * auto-retry — waits out a 429 `retry_after` and retries transient 5xx/network failures.
 * It sits below the conversations' replay recorder, so a replayed call never sleeps again.
 * The retry loop is p-retry's; this module only knows Telegram's 429 body.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import nodeFetch from 'node-fetch';
import pRetry, { AbortError } from 'p-retry';
import type { Logger } from 'pino';
import { createScrubber } from '../util/scrub.js';

/** grammY's `client.fetch` shape: `(url, init) → Response-like` with `json()`. */
export type BotFetch = (url: string, init: Record<string, unknown>) => Promise<BotResponse>;
/** The part of a Response grammY and this wrapper use. */
export interface BotResponse {
  status: number;
  json(): Promise<unknown>;
  clone(): BotResponse;
}

/** How Bot API calls are retried. */
export interface BotRetryPolicy {
  /** Retries after the first attempt. @default 5 */
  retries: number;
  /** Longest single `retry_after` honoured, ms; a longer one is returned to the caller as the 429. @default 60000 */
  maxRetryAfterMs: number;
  /** First backoff for 5xx and network errors, ms (doubles per retry). @default 1000 */
  minDelayMs: number;
}

const DEFAULT_POLICY: BotRetryPolicy = { retries: 5, maxRetryAfterMs: 60_000, minDelayMs: 1000 };

class RetryAfter extends Error {
  constructor(
    readonly response: BotResponse,
    readonly waitMs: number,
  ) {
    super(`429 retry after ${waitMs} ms`);
  }
}

class ServerError extends Error {
  constructor(readonly response: BotResponse) {
    super(`HTTP ${response.status}`);
  }
}

/** The Bot API method of a request URL (`…/bot<token>/sendMessage` → `sendMessage`). */
function methodOf(url: string): string {
  return url.slice(url.lastIndexOf('/') + 1);
}

async function retryAfterMs(response: BotResponse): Promise<number | undefined> {
  try {
    const body = (await response.clone().json()) as { parameters?: { retry_after?: unknown } };
    const seconds = body.parameters?.retry_after;
    return typeof seconds === 'number' && seconds >= 0 ? seconds * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Wraps `base` (default: node-fetch, grammY's own) with Telegram-aware retries. `getUpdates` is
 * not retried here (grammY's runner retries polling itself) but its failures are logged.
 * @returns a function for grammY's `client.fetch` option. It never throws on an HTTP status: the
 *          final response (e.g. a 429 whose retry_after exceeds the policy) goes back to grammY,
 *          which raises a GrammyError; network errors after the last retry are rethrown.
 */
export function retryingFetch(
  options: { logger?: Logger; policy?: Partial<BotRetryPolicy>; base?: BotFetch } = {},
): BotFetch {
  const policy = { ...DEFAULT_POLICY, ...options.policy };
  // Error texts of the HTTP client carry the request URL, and with it the bot token.
  const scrub = createScrubber([]);
  const reasonOf = (error: unknown) => scrub(error instanceof Error ? error.message : String(error));
  const base: BotFetch = options.base ?? nodeFetch;
  return async (url, init) => {
    const method = methodOf(url);
    if (method === 'getUpdates') {
      // grammY's runner retries polling itself (quietly); failures are logged here.
      try {
        const response = await base(url, init);
        if (response.status >= 400) {
          options.logger?.warn(
            { method, status: response.status },
            'polling Telegram failed; the runner retries',
          );
        }
        return response;
      } catch (error: unknown) {
        if (!(init.signal as AbortSignal | undefined)?.aborted) {
          options.logger?.warn(
            { method, reason: reasonOf(error) },
            'polling Telegram failed; the runner retries',
          );
        }
        throw error;
      }
    }
    // An upload's multipart body is a stream that one attempt consumes: it cannot be sent again,
    // so it gets one attempt (the caller sees Telegram's error instead of an empty retry).
    if (init.body !== undefined && typeof init.body !== 'string') return base(url, init);
    const signal = init.signal as AbortSignal | undefined;
    let pendingWaitMs = 0;
    try {
      return await pRetry(
        async () => {
          if (pendingWaitMs > 0) {
            const wait = pendingWaitMs;
            pendingWaitMs = 0;
            await sleep(wait);
          }
          if (signal?.aborted) throw new AbortError('aborted');
          const response = await base(url, init);
          if (response.status === 429) {
            const wait = await retryAfterMs(response);
            if (wait !== undefined && wait > policy.maxRetryAfterMs) return response;
            throw new RetryAfter(response, wait ?? policy.minDelayMs);
          }
          if (response.status >= 500) throw new ServerError(response);
          return response;
        },
        {
          retries: policy.retries,
          minTimeout: policy.minDelayMs,
          maxTimeout: policy.maxRetryAfterMs,
          factor: 2,
          onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
            // p-retry's own backoff still applies between attempts; for a 429 the wait Telegram
            // asked for is taken first.
            if (error instanceof RetryAfter) pendingWaitMs = error.waitMs;
            options.logger?.warn(
              { method, attemptNumber, retriesLeft, reason: reasonOf(error) },
              retriesLeft > 0 ? 'Bot API call failed, retrying' : 'Bot API call failed, no retries left',
            );
          },
        },
      );
    } catch (error: unknown) {
      // Out of retries on a status: hand the last response to grammY so it reports Telegram's words.
      if (error instanceof RetryAfter || error instanceof ServerError) return error.response;
      throw error;
    }
  };
}
