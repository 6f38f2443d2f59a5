/**
 * The chat bot on a real embedded ClickHouse and the sandbox upstreams, driven through grammY's
 * real pipeline (`handleUpdate`) with outgoing calls captured by the fake Bot API.
 */
import type { Bot } from 'grammy';
import { createBot } from '../../src/bot/createBot.js';
import type { BotContext, BotDeps } from '../../src/bot/context.js';
import { createRunTracker, type RunTracker } from '../../src/bot/runTracker.js';
import type { QticketsSandboxOptions } from '../../src/sandbox/qticketsSandbox.js';
import type { VkAdsSandboxOptions } from '../../src/sandbox/vkAdsSandbox.js';
import { startSandboxApp, type SandboxApp } from './app.js';
import { silentLogger } from './env.js';
import {
  BOT_INFO,
  callbackUpdate,
  createFakeBotApi,
  textUpdate,
  type FakeBotApi,
  type Sender,
} from './fakeBotApi.js';

export const TEAM_CHAT = -1001234;
export const ADMIN: Sender = { chatId: TEAM_CHAT, userId: 42, username: 'alice' };
export const READER: Sender = { chatId: TEAM_CHAT, userId: 43, username: 'bob' };
export const STRANGER: Sender = { chatId: 555, userId: 42, username: 'alice' };
export const BOT_ENV = {
  TG_BOT_TOKEN: '123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  TG_CHAT_ID: String(TEAM_CHAT),
  TG_ADMIN_USER_IDS: '42',
};

/** A bot under test. */
export interface TestBot {
  sb: SandboxApp;
  api: FakeBotApi;
  bot: Bot<BotContext>;
  deps: BotDeps;
  tracker: RunTracker;
  send(text: string, from?: Sender): Promise<void>;
  tap(data: string, messageId: number, from?: Sender, messageDate?: number): Promise<void>;
  /** Waits for background chat work (run results, backfill progress). */
  settle(): Promise<void>;
  /** A second bot on the same app and state directory (a restart of the chat side). */
  restart(): TestBot;
  close(): Promise<void>;
}

/** Starts a bot under `root`. */
export async function startTestBot(
  root: string,
  options: { env?: Record<string, string>; vk?: VkAdsSandboxOptions; qt?: QticketsSandboxOptions } = {},
): Promise<TestBot> {
  const sb = await startSandboxApp(root, {
    env: { ...BOT_ENV, ...options.env },
    ...(options.vk ? { vk: options.vk } : {}),
    ...(options.qt ? { qt: options.qt } : {}),
  });
  const tracker = createRunTracker(sb.app.runner);
  const pending = new Set<Promise<unknown>>();

  const build = (): TestBot => {
    const api = createFakeBotApi();
    const { bot, deps } = createBot(
      {
        config: sb.config,
        logger: silentLogger,
        db: sb.app.db,
        runner: sb.app.runner,
        tracker,
        nextRuns: () => [],
        now: Date.now,
        background: (task) => {
          const p = task.catch(() => undefined).finally(() => pending.delete(p));
          pending.add(p);
        },
      },
      { botInfo: BOT_INFO, fetch: api.fetch, retry: { minDelayMs: 10 } },
    );
    const self: TestBot = {
      sb,
      api,
      bot,
      deps,
      tracker,
      send: (text, from = ADMIN) => bot.handleUpdate(textUpdate(text, from) as never),
      tap: (data, messageId, from = ADMIN, date) =>
        bot.handleUpdate(callbackUpdate(data, messageId, from, date) as never),
      async settle() {
        while (pending.size > 0) await Promise.all([...pending]);
      },
      restart: () => build(),
      async close() {
        await self.settle();
        await sb.close();
      },
    };
    return self;
  };
  return build();
}
