/**
 * The one HTTP seam of the upstream clients: undici's `request` (which, unlike the global
 * `fetch`, sends a JSON body with GET, as QTickets requires) plus retries with exponential
 * backoff (p-retry). 429 and 5xx responses and network errors are retried; `Retry-After` is
 * honoured; every other status is returned to the caller to interpret.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pRetry, { AbortError } from 'p-retry';
import { request } from 'undici';
import type { Logger } from 'pino';
import { UpstreamHttpError, UpstreamNetworkError } from '../errors.js';

/** How a request is retried. */
export interface RetryPolicy {
  /** Retries after the first attempt (0 = one attempt). @default 4 */
  retries: number;
  /** First backoff delay, ms; doubles per retry up to `maxDelayMs`. @default 1000 */
  minDelayMs: number;
  /** Longest backoff or `Retry-After` wait honoured, ms. @default 30000 */
  maxDelayMs: number;
  /** Timeout of one attempt (connect + headers + body), ms. @default 30000 */
  attemptTimeoutMs: number;
}

/** One HTTP request. `body` is sent as is (also with GET). */
export interface HttpRequest {
  method: 'GET' | 'POST' | 'DELETE' | 'PUT';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal | undefined;
}

/** A response with its body read as text. Header names are lower-case. */
export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  bodyText: string;
}

/** Options of `sendWithRetry`. */
export interface SendOptions {
  /** Upstream name for errors and logs (`vk_ads`, `qtickets`). */
  upstream: string;
  policy: RetryPolicy;
  logger?: Logger | undefined;
  /** Extra retry decision on a non-2xx response (429 and 5xx are always retried). */
  retryOn?: (response: HttpResponse) => boolean;
}

function headerMap(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw))
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/** Milliseconds to wait from a `Retry-After` header (seconds or an HTTP date); undefined if absent. */
export function retryAfterMs(headers: Record<string, string>, now: number = Date.now()): number | undefined {
  const value = headers['retry-after'];
  if (value === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

class RetryableResponse extends Error {
  constructor(readonly response: HttpResponse) {
    super(`HTTP ${response.status}`);
  }
}

/** A short, single-line excerpt of a response body for error messages. */
export function bodyExcerpt(text: string, maxChars = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > maxChars ? `${flat.slice(0, maxChars)}…` : flat;
}

/**
 * Sends a request, retrying 429, 5xx and network failures with backoff.
 * @returns the final response (any status except retried ones that ran out: those throw).
 * @throws UpstreamHttpError when 429/5xx persists after all retries;
 *         UpstreamNetworkError when the host cannot be reached or an attempt times out;
 *         the signal's reason when `req.signal` aborts.
 */
export async function sendWithRetry(req: HttpRequest, options: SendOptions): Promise<HttpResponse> {
  const { policy, upstream, logger } = options;
  let pendingWaitMs = 0;
  try {
    return await pRetry(
      async () => {
        if (pendingWaitMs > 0) {
          const wait = pendingWaitMs;
          pendingWaitMs = 0;
          await sleep(wait, undefined, { signal: req.signal });
        }
        if (req.signal?.aborted) throw new AbortError(req.signal.reason as Error);
        const signals = [AbortSignal.timeout(policy.attemptTimeoutMs)];
        if (req.signal) signals.push(req.signal);
        let response: HttpResponse;
        try {
          const res = await request(req.url, {
            method: req.method,
            headers: req.headers,
            body: req.body,
            signal: AbortSignal.any(signals),
          });
          response = {
            status: res.statusCode,
            headers: headerMap(res.headers),
            bodyText: await res.body.text(),
          };
        } catch (error: unknown) {
          if (req.signal?.aborted) throw new AbortError(req.signal.reason as Error);
          const reason = error instanceof Error ? error.message : String(error);
          const timedOut =
            error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
          throw new UpstreamNetworkError(
            upstream,
            timedOut
              ? `${upstream}: no answer from ${new URL(req.url).host} within ${policy.attemptTimeoutMs} ms`
              : `${upstream}: cannot reach ${new URL(req.url).host}: ${reason}`,
            { cause: error },
          );
        }
        if (response.status === 429 || response.status >= 500 || options.retryOn?.(response) === true) {
          throw new RetryableResponse(response);
        }
        return response;
      },
      {
        retries: policy.retries,
        minTimeout: policy.minDelayMs,
        maxTimeout: policy.maxDelayMs,
        factor: 2,
        randomize: true,
        signal: req.signal,
        onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
          if (error instanceof RetryableResponse) {
            const wait = retryAfterMs(error.response.headers);
            // p-retry's own backoff still applies; Retry-After, when longer, adds the difference.
            if (wait !== undefined) pendingWaitMs = Math.min(wait, policy.maxDelayMs);
          }
          logger?.warn(
            { upstream, attemptNumber, retriesLeft, reason: error.message, url: new URL(req.url).pathname },
            retriesLeft > 0
              ? 'upstream request failed, retrying'
              : 'upstream request failed, no retries left',
          );
        },
      },
    );
  } catch (error: unknown) {
    if (error instanceof RetryableResponse) {
      const r = error.response;
      throw new UpstreamHttpError(
        upstream,
        r.status,
        undefined,
        `${upstream}: HTTP ${r.status} from ${new URL(req.url).pathname} after ${policy.retries + 1} attempts: ${bodyExcerpt(r.bodyText)}`,
      );
    }
    throw error;
  }
}
