/**
 * The VK Ads OAuth2 token life cycle: reuse the stored pair, refresh it shortly before expiry or
 * after a 401, and mint a new one (`client_credentials`) only when the store is empty or VK
 * refuses the refresh token. Every refresh or mint happens under the store lock, after re-reading
 * the store, because a refresh kills the previous access token at once and another process may
 * already have refreshed. Source: https://ads.vk.com/doc/api/info/Authorization.
 */
import type { Logger } from 'pino';
import { UpstreamAuthError, UpstreamFormatError, UpstreamHttpError } from '../../errors.js';
import { bodyExcerpt, sendWithRetry, type HttpResponse, type RetryPolicy } from '../../http/request.js';
import { createScrubber } from '../../util/scrub.js';
import { parseVkBody, parseVkError, VK_UPSTREAM, vkTokenResponseSchema } from './schemas.js';
import {
  clearTokenStore,
  readTokenStore,
  withTokenStoreLock,
  writeTokenStore,
  type StoredVkToken,
} from './tokenStore.js';

/** Options of {@link VkTokenManager}. */
export interface VkTokenManagerOptions {
  /** API root without a trailing slash, e.g. `https://ads.vk.com`. */
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  /** The JSON file holding the pair (created with mode 0600). */
  tokenStorePath: string;
  retry: RetryPolicy;
  logger?: Logger | undefined;
  /** Current time, unix ms. */
  now: () => number;
  /** Refresh when the access token expires within this many ms. */
  refreshMarginMs: number;
  /** How long to wait for another process holding the store lock, ms. */
  lockWaitMs: number;
}

/** VK refused a refresh token (it was deleted, or belongs to a deleted token instance). */
class RefreshRefused extends Error {}

/**
 * Hands out valid access tokens for one client id, sharing them with other processes through
 * the store file. Not exported from the package: the client owns one.
 */
export class VkTokenManager {
  private current: StoredVkToken | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly seen = new Set<string>();

  constructor(private readonly options: VkTokenManagerOptions) {}

  /** Masks the client secret and every token this process has seen in `text`. */
  scrub(text: string): string {
    return createScrubber([this.options.clientSecret, ...this.seen])(text);
  }

  /**
   * A valid access token: the one in memory, else the stored one, else a refreshed or minted one.
   * @throws UpstreamAuthError (client refused, 5-token limit), UpstreamHttpError,
   *   UpstreamNetworkError, UpstreamFormatError, VkTokenStoreError
   */
  async accessToken(signal?: AbortSignal): Promise<string> {
    if (this.current && this.isFresh(this.current)) return this.current.accessToken;
    return this.serialized(async () => {
      if (this.current && this.isFresh(this.current)) return this.current.accessToken;
      return this.locked(async (stored) =>
        stored && this.isFresh(stored) ? stored : this.renew(stored, signal),
      );
    });
  }

  /**
   * A replacement for an access token VK has just refused with 401 (`expired_token` or
   * `invalid_token`): the stored one if another process already replaced it, else a refreshed
   * (or, if the refresh token is refused too, a newly minted) one.
   */
  async replaceRejected(rejected: string, signal?: AbortSignal): Promise<string> {
    return this.serialized(async () => {
      if (this.current && this.current.accessToken !== rejected && this.isFresh(this.current)) {
        return this.current.accessToken;
      }
      return this.locked(async (stored) =>
        stored && stored.accessToken !== rejected && this.isFresh(stored)
          ? stored
          : this.renew(stored, signal),
      );
    });
  }

  /** Forgets the pair in memory and on disk (after the tokens were deleted at VK). */
  async forget(): Promise<void> {
    await this.serialized(() =>
      withTokenStoreLock(
        this.options.tokenStorePath,
        this.options.lockWaitMs,
        async () => {
          this.current = undefined;
          await clearTokenStore(this.options.tokenStorePath);
        },
        this.options.logger,
      ),
    );
  }

  private isFresh(token: StoredVkToken): boolean {
    return token.expiresAtMs - this.options.now() > this.options.refreshMarginMs;
  }

  /** Runs `fn` after every earlier call of this process has finished (single flight). */
  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Re-reads the store under its lock, lets `decide` pick or produce a pair, saves a new one. */
  private async locked(
    decide: (stored: StoredVkToken | undefined) => Promise<StoredVkToken> | StoredVkToken,
  ) {
    const { tokenStorePath, lockWaitMs, logger, clientId } = this.options;
    return withTokenStoreLock(
      tokenStorePath,
      lockWaitMs,
      async () => {
        const read = await readTokenStore(tokenStorePath, logger);
        const stored = read && read.clientId === clientId ? read : undefined;
        if (stored) {
          this.seen.add(stored.accessToken);
          this.seen.add(stored.refreshToken);
        }
        const chosen = await decide(stored);
        if (chosen !== stored) await writeTokenStore(tokenStorePath, chosen);
        this.current = chosen;
        return chosen.accessToken;
      },
      logger,
    );
  }

  private async renew(stored: StoredVkToken | undefined, signal?: AbortSignal): Promise<StoredVkToken> {
    if (stored) {
      try {
        return await this.refresh(stored, signal);
      } catch (error: unknown) {
        if (!(error instanceof RefreshRefused)) throw error;
        this.options.logger?.warn(
          { upstream: VK_UPSTREAM, reason: error.message },
          'vk_ads refresh token was refused; issuing a new token',
        );
      }
    }
    return this.mint(signal);
  }

  private async refresh(stored: StoredVkToken, signal?: AbortSignal): Promise<StoredVkToken> {
    const { clientId, clientSecret, now, logger } = this.options;
    const res = await this.tokenRequest(
      {
        grant_type: 'refresh_token',
        refresh_token: stored.refreshToken,
        client_id: clientId,
        client_secret: clientSecret,
      },
      signal,
    );
    if (res.status >= 400 && res.status < 500) {
      const { code } = parseVkError(res.bodyText);
      if (code === 'invalid_client') throw this.clientRefused(res.status);
      throw new RefreshRefused(`HTTP ${res.status} ${code ?? ''}`.trim());
    }
    if (res.status < 200 || res.status >= 300) throw this.httpError(res, 'refreshing the access token');
    const body = parseVkBody(res.bodyText, vkTokenResponseSchema, 'POST /api/v2/oauth2/token.json (refresh)');
    const refreshToken = body.refresh_token ?? stored.refreshToken;
    this.seen.add(body.access_token);
    this.seen.add(refreshToken);
    const at = now();
    logger?.info({ upstream: VK_UPSTREAM, expiresInSec: body.expires_in }, 'vk_ads access token refreshed');
    return {
      ...stored,
      accessToken: body.access_token,
      refreshToken,
      expiresAtMs: at + body.expires_in * 1000,
      refreshedAtMs: at,
    };
  }

  private async mint(signal?: AbortSignal): Promise<StoredVkToken> {
    const { clientId, clientSecret, now, logger, tokenStorePath } = this.options;
    const res = await this.tokenRequest(
      { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret },
      signal,
    );
    const { code } = parseVkError(res.bodyText);
    if (res.status === 403) {
      throw new UpstreamAuthError(
        VK_UPSTREAM,
        403,
        code,
        `${VK_UPSTREAM}: VK Ads refused to issue a new API token (HTTP 403${code ? ` ${code}` : ''}): the account already ` +
          `has the maximum of 5 tokens for this client id. Delete unused tokens in the VK Ads cabinet ` +
          `(Настройки → Доступ к API, https://ads.vk.com/hq/settings/access) or with POST /api/v2/oauth2/token/delete.json ` +
          `(deleteVkAdsTokens; it deletes ALL tokens of the user, also those of other programs), then run again. ` +
          `This host keeps and reuses its token in ${tokenStorePath}.`,
      );
    }
    if (res.status === 401 || code === 'invalid_client') throw this.clientRefused(res.status, code);
    if (res.status < 200 || res.status >= 300) throw this.httpError(res, 'issuing an access token');
    const body = parseVkBody(res.bodyText, vkTokenResponseSchema, 'POST /api/v2/oauth2/token.json');
    this.seen.add(body.access_token);
    if (body.refresh_token === undefined) {
      throw new UpstreamFormatError(
        VK_UPSTREAM,
        `${VK_UPSTREAM}: POST /api/v2/oauth2/token.json returned no refresh_token; the token cannot be kept for reuse`,
      );
    }
    this.seen.add(body.refresh_token);
    const at = now();
    logger?.info(
      { upstream: VK_UPSTREAM, expiresInSec: body.expires_in, tokenStorePath },
      'vk_ads issued a new API token (client_credentials) and stored it for reuse',
    );
    return {
      clientId,
      accessToken: body.access_token,
      refreshToken: body.refresh_token,
      expiresAtMs: at + body.expires_in * 1000,
      issuedAtMs: at,
    };
  }

  /**
   * Deletes ALL tokens of the user for this client id at VK (`POST /api/v2/oauth2/token/delete.json`)
   * and empties the store. The way out of the 5-token limit; other programs using this client id
   * lose their tokens too.
   * @throws UpstreamAuthError (client refused), UpstreamHttpError, UpstreamNetworkError, VkTokenStoreError
   */
  async deleteAll(signal?: AbortSignal): Promise<void> {
    const { clientId, clientSecret, logger } = this.options;
    const res = await this.tokenRequest(
      { client_id: clientId, client_secret: clientSecret },
      signal,
      '/api/v2/oauth2/token/delete.json',
    );
    if (res.status === 401 || res.status === 403)
      throw this.clientRefused(res.status, parseVkError(res.bodyText).code);
    if (res.status < 200 || res.status >= 300) throw this.httpError(res, 'deleting the API tokens');
    await this.forget();
    logger?.warn({ upstream: VK_UPSTREAM }, 'vk_ads deleted all API tokens of this client id');
  }

  private async tokenRequest(
    form: Record<string, string>,
    signal?: AbortSignal,
    pathname = '/api/v2/oauth2/token.json',
  ): Promise<HttpResponse> {
    const { apiUrl, retry, logger } = this.options;
    try {
      return await sendWithRetry(
        {
          method: 'POST',
          url: `${apiUrl}${pathname}`,
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: new URLSearchParams(form).toString(),
          signal,
        },
        { upstream: VK_UPSTREAM, policy: retry, logger },
      );
    } catch (error: unknown) {
      if (error instanceof UpstreamHttpError) {
        throw new UpstreamHttpError(
          VK_UPSTREAM,
          error.status,
          error.upstreamCode,
          this.scrub(`${error.message} (VK Ads token endpoint; VK Ads may be down, run again later)`),
          { cause: error },
        );
      }
      throw error;
    }
  }

  private clientRefused(status: number, code?: string): UpstreamAuthError {
    return new UpstreamAuthError(
      VK_UPSTREAM,
      status,
      code ?? 'invalid_client',
      `${VK_UPSTREAM}: VK Ads refused the client id or secret (HTTP ${status} ${code ?? 'invalid_client'}); ` +
        `check VK_ADS_CLIENT_ID and VK_ADS_CLIENT_SECRET (cabinet: Настройки → Доступ к API)`,
    );
  }

  private httpError(res: HttpResponse, doing: string): UpstreamHttpError {
    const { code, message } = parseVkError(res.bodyText);
    return new UpstreamHttpError(
      VK_UPSTREAM,
      res.status,
      code,
      this.scrub(
        `${VK_UPSTREAM}: HTTP ${res.status}${code ? ` ${code}` : ''} while ${doing}: ${message ?? bodyExcerpt(res.bodyText)}`,
      ),
    );
  }
}
