/** `etl notify "text"` against the local Bot API server: exit 0 delivered, 1 refused (with the reason), 2 not configured. */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { startTelegramBotApi, type TelegramBotApi } from '../src/sandbox/telegramBotApi.js';
import { tempDir, testEnv } from './helpers/env.js';

let bot: TelegramBotApi;
let env: Record<string, string>;
beforeAll(async () => {
  bot = await startTelegramBotApi();
  env = testEnv(tempDir(), { TG_BOT_TOKEN: bot.token, TG_CHAT_ID: '-100777', TG_API_ROOT: bot.url });
});
afterAll(async () => {
  await bot.close();
});

async function notify(text: string, extra: Record<string, string> = {}) {
  let out = '';
  let err = '';
  const sink = (f: (t: string) => void) =>
    new Writable({
      write(c: Buffer, _e, cb) {
        f(c.toString());
        cb();
      },
    });
  const code = await main(['notify', text], {
    stdout: sink((t) => (out += t)),
    stderr: sink((t) => (err += t)),
    env: { ...env, ...extra },
    cwd: process.cwd(),
    isTTY: false,
  });
  return { code, out, err };
}

describe('etl notify', () => {
  it('delivers the text as plain text (escaped) and exits 0', async () => {
    const r = await notify('ETL Dispatch failed: <job> & co');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/delivered to chat -100777/);
    expect(bot.sent.at(-1)).toMatchObject({
      chatId: '-100777',
      plainText: 'ETL Dispatch failed: <job> & co',
    });
  });

  it("exits 1 with Telegram's reason when the bot was removed from the chat", async () => {
    bot.faults.kickedChats = ['-100777'];
    try {
      const r = await notify('hello');
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/not delivered: .*bot was kicked/);
      expect(r.err).not.toContain(bot.token);
    } finally {
      bot.faults.reset();
    }
  });

  it('exits 2 when Telegram is not configured or the text is empty', async () => {
    expect((await notify('hello', { TG_BOT_TOKEN: '' })).code).toBe(2);
    expect((await notify('   ')).code).toBe(2);
  });
});
