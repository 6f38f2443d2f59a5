/**
 * The scheduler inside `etl bot`, with a manual clock (no real sleeping): a start at 07:00 MSK
 * after a night down catches up each missed job once (trigger `catchup`); at 05:35 the next day
 * vk_fetch starts once (trigger `schedule`); a slot whose job cannot start is told at once with its
 * reason; a slot that passes without any run raises MISSED_RUN in the chat after the grace period.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { App } from '../src/app/openApp.js';
import { runBot } from '../src/bot/service.js';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, type Config } from '../src/config/loadConfig.js';
import { listRuns } from '../src/runner/registry.js';
import { startQticketsSandbox, type QticketsSandbox } from '../src/sandbox/qticketsSandbox.js';
import { startTelegramBotApi, type TelegramBotApi } from '../src/sandbox/telegramBotApi.js';
import { startVkAdsSandbox, type VkAdsSandbox } from '../src/sandbox/vkAdsSandbox.js';
import { silentLogger, tempDir, testEnv } from './helpers/env.js';
import { ManualClock } from './helpers/manualClock.js';

const msk = (text: string) => new Date(`${text}+03:00`).getTime();
const CHAT = -1004321;

let tg: TelegramBotApi;
let vk: VkAdsSandbox;
let qt: QticketsSandbox;
let app: App;
let exit: Promise<number>;
let config: Config;
const stop = new AbortController();
const clock = new ManualClock(msk('2026-11-20T07:00:00'));

beforeAll(async () => {
  tg = await startTelegramBotApi();
  vk = await startVkAdsSandbox({ seed: 5, rateLimits: { rps: 1000 } });
  qt = await startQticketsSandbox({ seed: 5 });
  config = loadConfig(
    testEnv(tempDir('bot-schedule'), {
      VK_ADS_API_URL: vk.url,
      VK_ADS_CLIENT_ID: vk.clientId,
      VK_ADS_CLIENT_SECRET: vk.clientSecret,
      QTICKETS_API_URL: qt.url,
      // No QTICKETS_TOKEN: qtickets_fetch cannot start, so its slots pass without a run.
      TG_BOT_TOKEN: tg.token,
      TG_API_ROOT: tg.url,
      TG_CHAT_ID: String(CHAT),
      TG_ADMIN_USER_IDS: '42',
    }),
  );
  await new Promise<void>((resolve) => {
    exit = runBot({
      config,
      logger: silentLogger,
      signal: stop.signal,
      handleSignals: false,
      now: clock.now,
      timers: clock,
      onReady: (bot) => {
        app = bot.app;
        resolve();
      },
    });
    exit.catch(() => resolve());
  });
});

afterAll(async () => {
  stop.abort();
  await exit?.catch(() => undefined);
  await Promise.allSettled([tg?.close(), vk?.close(), qt?.close()]);
});

async function runsOf(job: string) {
  return (await listRuns(app.db, { job, limit: 50 })).filter((r) => r.parentRunId === null);
}

describe('the scheduler in etl bot', () => {
  it('a start at 07:00 after a night down catches up each missed job once', async () => {
    await vi.waitFor(
      async () => {
        for (const job of ['vk_fetch', 'build_dm_vk', 'build_dm_sales']) {
          expect((await runsOf(job)).map((r) => r.trigger)).toEqual(['catchup']);
        }
        // All five tasks armed for their next slots once the catch-up is over.
        expect(clock.pending()).toBe(5);
      },
      { timeout: 30_000, interval: 200 },
    );
    expect(await runsOf('qtickets_fetch')).toEqual([]);
    const [vkRun] = await runsOf('vk_fetch');
    expect(vkRun).toMatchObject({ status: 'ok', actor: 'scheduler', toDate: '2026-11-19' });
  });

  it('at 05:35 MSK the next day vk_fetch starts once', async () => {
    await clock.advanceTo(msk('2026-11-21T05:35:00'));
    await vi.waitFor(async () => expect((await runsOf('vk_fetch')).length).toBe(2), {
      timeout: 30_000,
      interval: 200,
    });
    const [latest] = await runsOf('vk_fetch');
    expect(latest).toMatchObject({ trigger: 'schedule', status: 'ok', toDate: '2026-11-20' });
    expect((await runsOf('build_dm_vk')).length).toBe(1);
  });

  it('a slot whose job cannot start is told at once with the reason, not as a bare MISSED_RUN later', async () => {
    const refusedBefore = tg.sent.filter((m) => m.plainText.includes('QTICKETS_TOKEN')).length;
    await clock.advanceTo(msk('2026-11-21T05:41:00'));
    await vi.waitFor(() =>
      expect(tg.sent.filter((m) => m.plainText.includes('QTICKETS_TOKEN')).length).toBe(refusedBefore + 1),
    );
    const refused = tg.sent.filter((m) => m.plainText.includes('QTICKETS_TOKEN')).at(-1);
    expect(refused?.plainText).toContain('Сбой запуска');
    expect(refused?.plainText).toContain('qtickets_fetch');
    await clock.advanceTo(msk('2026-11-21T05:56:00'));
    expect(tg.sent.some((m) => m.plainText.includes('Пропущен запуск'))).toBe(false);
  });

  it('a slot that passes without a run raises MISSED_RUN in the chat', async () => {
    // The healthcheck cannot even note its start (its state file is a directory now): the 06:30
    // slot fires, nothing runs, and 15 minutes later the chat is told.
    // The 06:05 build first, so its own check (06:20) finds it.
    await clock.advanceTo(msk('2026-11-21T06:06:00'));
    await vi.waitFor(async () => expect((await runsOf('build_dm_sales')).length).toBe(2), {
      timeout: 30_000,
      interval: 200,
    });
    const stateFile = path.join(config.dataDir, 'bot', 'healthcheck_last_started_ms');
    rmSync(stateFile, { force: true });
    mkdirSync(stateFile);
    await clock.advanceTo(msk('2026-11-21T06:44:00'));
    expect(tg.sent.some((m) => m.plainText.includes('Пропущен запуск'))).toBe(false);
    await clock.advanceTo(msk('2026-11-21T06:46:00'));
    await vi.waitFor(() => {
      const missed = tg.sent.filter((m) => m.plainText.includes('Пропущен запуск'));
      expect(missed).toHaveLength(1);
      expect(missed[0]?.plainText).toContain('healthcheck');
      expect(missed[0]?.plainText).toContain('06:30');
      expect(missed[0]?.plainText).toContain('2026-11-20');
    });
  });
});
