/**
 * `etl bot` as a process would run it (runBot), over HTTP against the local Bot API server with
 * long polling: a command, a button tap, an edit and the result reply; a foreign chat ignored;
 * the /history chart as a PNG; SIGTERM during a run — the bot exits within the configured
 * timeout and the run is recorded as cancelled.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runBot } from '../src/bot/service.js';
import { EtlError } from '../src/errors.js';
import { createLogger } from '../src/logger.js';
import { Writable } from 'node:stream';
import type { RunTracker } from '../src/bot/runTracker.js';
import type { App } from '../src/app/openApp.js';
import { loadConfig, type Config } from '../src/config/loadConfig.js';
import { openApp } from '../src/app/openApp.js';
import { createRecordingNotifier } from './helpers/recordingNotifier.js';
import { listRuns } from '../src/runner/registry.js';
import { startQticketsSandbox, type QticketsSandbox } from '../src/sandbox/qticketsSandbox.js';
import { startTelegramBotApi, type TelegramBotApi } from '../src/sandbox/telegramBotApi.js';
import { startVkAdsSandbox, type VkAdsSandbox } from '../src/sandbox/vkAdsSandbox.js';
import { silentLogger, tempDir, testEnv, sandboxEnv } from './helpers/env.js';
import { callbackUpdate, textUpdate, type Sender } from './helpers/fakeBotApi.js';

const CHAT = -1009876;
const ADMIN: Sender = { chatId: CHAT, userId: 42, username: 'alice' };
const STRANGER: Sender = { chatId: 555, userId: 42, username: 'alice' };
const SHUTDOWN_TIMEOUT_MS = 1500;

let tg: TelegramBotApi;
let vk: VkAdsSandbox;
let qt: QticketsSandbox;
let app: App;
let tracker: RunTracker;
let exit: Promise<number>;
let config: Config;
const stop = new AbortController();

beforeAll(async () => {
  tg = await startTelegramBotApi();
  vk = await startVkAdsSandbox({ seed: 3, rateLimits: { rps: 1000 } });
  qt = await startQticketsSandbox({ seed: 3 });
  config = loadConfig(
    testEnv(tempDir('bot-service'), {
      ...sandboxEnv(vk, qt, tg),
      TG_CHAT_ID: String(CHAT),
      TG_ADMIN_USER_IDS: '42',
      BOT_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      SCHEDULE_VK_FETCH: 'off',
      SCHEDULE_QTICKETS_FETCH: 'off',
      SCHEDULE_BUILD_DM_VK: 'off',
      SCHEDULE_BUILD_DM_SALES: 'off',
      SCHEDULE_HEALTHCHECK: 'off',
    }),
  );
  const ready = new Promise<void>((resolve) => {
    exit = runBot({
      config,
      logger: silentLogger,
      signal: stop.signal,
      handleSignals: false,
      retry: { minDelayMs: 10 },
      onReady: (bot) => {
        app = bot.app;
        tracker = bot.tracker;
        resolve();
      },
    });
    exit.catch(() => resolve());
  });
  await ready;
});

afterAll(async () => {
  stop.abort();
  await exit?.catch(() => undefined);
  await Promise.allSettled([tg?.close(), vk?.close(), qt?.close()]);
});

const inChat = () => tg.sent.filter((m) => m.chatId === String(CHAT));
const buttons = (markup: unknown) =>
  (
    (markup as { inline_keyboard?: Array<Array<{ callback_data?: string }>> } | undefined)?.inline_keyboard ??
    []
  )
    .flat()
    .flatMap((b) => (b.callback_data ? [b.callback_data] : []));

describe('etl bot over HTTP', () => {
  it('starts: getMe, deleteWebhook, the command menu, long polling', async () => {
    await vi.waitFor(() => expect(tg.requests.map((r) => r.method)).toContain('getUpdates'));
    const methods = tg.requests.map((r) => r.method);
    expect(methods.slice(0, 3)).toEqual(['getMe', 'deleteWebhook', 'setMyCommands']);
    const commands = tg.requests.find((r) => r.method === 'setMyCommands')?.params.commands as unknown[];
    expect(commands).toHaveLength(9);
  });

  it('/run build_dm_sales from an admin: confirm with a tap, the message is edited, the result arrives', async () => {
    tg.pushUpdate(textUpdate('/run build_dm_sales', ADMIN));
    const confirm = await vi.waitFor(
      () => {
        const m = inChat().find((x) =>
          buttons(x.replyMarkup).some((d) => d.startsWith('run:go:build_dm_sales')),
        );
        expect(m).toBeDefined();
        return m!;
      },
      { timeout: 10_000 },
    );
    const go = buttons(confirm.replyMarkup).find((d) => d.startsWith('run:go:')) ?? '';
    tg.pushUpdate(callbackUpdate(go, confirm.messageId, ADMIN));
    await vi.waitFor(() => expect(tg.edits.some((e) => e.messageId === confirm.messageId)).toBe(true), {
      timeout: 10_000,
    });
    const result = await vi.waitFor(
      () => {
        const m = inChat().find((x) => x.plainText.startsWith('✅ build_dm_sales'));
        expect(m).toBeDefined();
        return m!;
      },
      { timeout: 20_000 },
    );
    const [run] = await listRuns(app.db, { job: 'build_dm_sales', limit: 1 });
    expect(run).toMatchObject({ status: 'ok', trigger: 'chat', actor: '42:alice' });
    expect(result.plainText).toContain(run?.runId);
  });

  it('a foreign chat gets no reply; an allowed chat is answered', async () => {
    tg.pushUpdate(textUpdate('/health', STRANGER));
    tg.pushUpdate(textUpdate('/run build_dm_vk', STRANGER));
    tg.pushUpdate(textUpdate('/status', ADMIN));
    await vi.waitFor(
      () =>
        expect(
          inChat().some(
            (m) =>
              m.plainText.includes('Ближайшие запуски') ||
              m.plainText.includes('Расписание не запущено') ||
              m.plainText.includes('Сейчас ничего'),
          ),
        ).toBe(true),
      {
        timeout: 10_000,
      },
    );
    expect(tg.sent.filter((m) => m.chatId === '555')).toEqual([]);
    expect(await listRuns(app.db, { job: 'build_dm_vk', limit: 1 })).toEqual([]);
  });

  it('/history and its chart button deliver a PNG', async () => {
    tg.pushUpdate(textUpdate('/history', ADMIN));
    const history = await vi.waitFor(
      () => {
        const m = inChat().find((x) => buttons(x.replyMarkup).includes('hist:c:*'));
        expect(m).toBeDefined();
        return m!;
      },
      { timeout: 10_000 },
    );
    expect(history.plainText).toContain('build_dm_sales');
    tg.pushUpdate(callbackUpdate('hist:c:*', history.messageId, ADMIN));
    const photo = await vi.waitFor(
      () => {
        const m = inChat().find((x) => x.photo);
        expect(m).toBeDefined();
        return m!;
      },
      { timeout: 20_000 },
    );
    expect(photo.photo?.content.subarray(1, 4).toString('latin1')).toBe('PNG');
  });

  it('SIGTERM during a run: the bot exits within the configured timeout and the run is recorded as cancelled', async () => {
    vk.faults.delayMs = 20_000;
    tg.pushUpdate(textUpdate('/run vk_fetch', ADMIN));
    const confirm = await vi.waitFor(
      () => {
        const m = inChat().find((x) => buttons(x.replyMarkup).some((d) => d.startsWith('run:go:vk_fetch')));
        expect(m).toBeDefined();
        return m!;
      },
      { timeout: 10_000 },
    );
    const go = buttons(confirm.replyMarkup).find((d) => d.startsWith('run:go:')) ?? '';
    tg.pushUpdate(callbackUpdate(go, confirm.messageId, ADMIN));
    await vi.waitFor(() => expect(tracker.inFlight().map((r) => r.job)).toContain('vk_fetch'), {
      timeout: 10_000,
    });

    const stoppedAt = Date.now();
    stop.abort();
    expect(await exit).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 5000);
    // The result reply says how the run ended; the record was written before it.
    const reply = inChat().find((m) => m.plainText.startsWith('❌ vk_fetch'));
    expect(reply?.plainText).toMatch(/cancelled|the bot stopped/);
    // And meta.etl_runs has the row (read after the bot released the database).
    const after = await openApp({
      config,
      logger: silentLogger,
      owner: 'test',
      schema: 'require',
      notifier: createRecordingNotifier(),
    });
    try {
      const [run] = await listRuns(after.db, { job: 'vk_fetch', limit: 1 });
      expect(run).toMatchObject({ status: 'error', trigger: 'chat', actor: '42:alice' });
      expect(run?.errMsg).toMatch(/cancelled/);
      expect(reply?.plainText).toContain(run?.runId);
    } finally {
      await after.close();
    }
  });

  it('another instance polling the same token (409): the bot exits 1 instead of fighting over updates', async () => {
    tg.faults.pollConflict = true;
    try {
      const failure = await runBot({
        config,
        logger: silentLogger,
        handleSignals: false,
        retry: { minDelayMs: 10 },
      }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(EtlError);
      expect((failure as EtlError).exitCode).toBe(1);
      expect((failure as EtlError).message).toMatch(/another bot polls Telegram with this token/);
    } finally {
      tg.faults.pollConflict = false;
    }
  });

  it('Telegram unreachable: a clear error, and the bot token appears in no log line and no message', async () => {
    let logged = '';
    const logger = createLogger(
      'trace',
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          logged += chunk.toString();
          cb();
        },
      }),
    );
    const unreachable = { ...config, telegram: { ...config.telegram, apiRoot: 'http://127.0.0.1:1' } };
    const failure = await runBot({
      config: unreachable,
      logger,
      handleSignals: false,
      retry: { minDelayMs: 5, retries: 2 },
    }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect((failure as Error).message).toMatch(/cannot reach the Bot API at http:\/\/127\.0\.0\.1:1/);
    expect(logged).toMatch(/Bot API call failed/);
    const secret = tg.token.split(':')[1] ?? tg.token;
    expect(logged).not.toContain(secret);
    expect((failure as Error).message).not.toContain(secret);
  });
});
