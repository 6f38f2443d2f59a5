/**
 * The bot's Bot API client wrapper: 429 retry_after is waited out, 5xx retried, an upload's
 * streamed body is never resent (it would arrive empty), polling is passed through.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { retryingFetch, type BotFetch, type BotResponse } from '../src/bot/retryingFetch.js';

function reply(status: number, body: unknown): BotResponse {
  const make = (): BotResponse => ({ status, json: () => Promise.resolve(body), clone: make });
  return make();
}

/** A base fetch answering from a script, recording what each attempt carried. */
function scripted(answers: BotResponse[]): { fetch: BotFetch; bodies: unknown[]; times: number[] } {
  const bodies: unknown[] = [];
  const times: number[] = [];
  return {
    bodies,
    times,
    fetch: (_url, init) => {
      bodies.push(init.body);
      times.push(Date.now());
      return Promise.resolve(answers.shift() ?? reply(200, { ok: true, result: true }));
    },
  };
}

const policy = { minDelayMs: 5, retries: 3 };

describe('retryingFetch', () => {
  it('waits out a 429 retry_after and then succeeds', async () => {
    const base = scripted([reply(429, { ok: false, error_code: 429, parameters: { retry_after: 1 } })]);
    const fetch = retryingFetch({ base: base.fetch, policy });
    const res = await fetch('https://api.telegram.org/bot1:x/sendMessage', { body: '{"text":"a"}' });
    expect(res.status).toBe(200);
    expect(base.bodies).toEqual(['{"text":"a"}', '{"text":"a"}']);
    expect((base.times[1] ?? 0) - (base.times[0] ?? 0)).toBeGreaterThanOrEqual(990);
  });

  it('retries a 5xx, and hands back the last answer when retries run out', async () => {
    const base = scripted([reply(502, {}), reply(502, {}), reply(502, {}), reply(502, {})]);
    const res = await retryingFetch({ base: base.fetch, policy })('https://x/bot1:x/sendMessage', {
      body: '{}',
    });
    expect(res.status).toBe(502);
    expect(base.bodies).toHaveLength(4);
  });

  it('does not wait a retry_after longer than the policy allows: the 429 goes back to grammY', async () => {
    const base = scripted([reply(429, { ok: false, parameters: { retry_after: 3600 } })]);
    const res = await retryingFetch({ base: base.fetch, policy: { ...policy, maxRetryAfterMs: 1000 } })(
      'https://x/bot1:x/sendMessage',
      { body: '{}' },
    );
    expect(res.status).toBe(429);
    expect(base.bodies).toHaveLength(1);
  });

  it('sends an upload (a streamed multipart body) once: a retry would carry an empty body', async () => {
    const base = scripted([reply(500, {})]);
    const body = Readable.from([Buffer.from('--boundary\r\n…png bytes…')]);
    const res = await retryingFetch({ base: base.fetch, policy })('https://x/bot1:x/sendPhoto', { body });
    expect(res.status).toBe(500);
    expect(base.bodies).toEqual([body]);
  });

  it('passes getUpdates through untouched (the runner retries polling itself)', async () => {
    const base = scripted([reply(502, {})]);
    const res = await retryingFetch({ base: base.fetch, policy })('https://x/bot1:x/getUpdates', {
      body: '{}',
    });
    expect(res.status).toBe(502);
    expect(base.bodies).toHaveLength(1);
  });
});
