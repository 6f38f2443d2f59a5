/**
 * Builds the grammY bot: the middleware chain in the order the plugins require, and every chat
 * command from `commands/`. Order matters (see reference/telegram-grammy.md):
 *   error boundary → per-chat sequentialize → access control → conversations (file-backed,
 *   versioned) → /cancel and /start (before the dialogs, so a waiting dialog cannot swallow
 *   them) → dialogs → commands → "no longer active" for any other button.
 * No network happens here; `startBot` (service.ts) starts polling.
 */
import path from 'node:path';
import { conversations } from '@grammyjs/conversations';
import { sequentialize } from '@grammyjs/runner';
import { FileAdapter } from '@grammyjs/storage-file';
import { Bot, GrammyError, HttpError, type Api } from 'grammy';
import type { UserFromGetMe } from 'grammy/types';
import { registerAlerts } from '../../commands/alerts.js';
import { registerBackfill } from '../../commands/backfill.js';
import { registerHealth } from '../../commands/health.js';
import { registerHelp } from '../../commands/help.js';
import { registerHistory } from '../../commands/history.js';
import { registerRun } from '../../commands/run.js';
import { registerStatus } from '../../commands/status.js';
import type { BotContext, BotDeps, DialogContext } from './context.js';
import { errorText, textsOf } from './context.js';
import { retryingFetch, type BotFetch, type BotRetryPolicy } from './retryingFetch.js';
import { BOT_COMMANDS, botTexts } from './texts.js';

/**
 * Version of the stored dialog state (`<ETL_DATA_DIR>/bot/dialogs`). Bump it whenever a dialog's
 * code changes: dialogs stored by an older version are then abandoned (their buttons answer
 * "no longer active") instead of being replayed against new code.
 */
export const DIALOG_STATE_VERSION = 1;

/** Options of `createBot`. */
export interface CreateBotOptions {
  /** Skip getMe (tests). */
  botInfo?: UserFromGetMe;
  /** The HTTP client under the retry wrapper (tests capture calls here). @default node-fetch */
  fetch?: BotFetch;
  retry?: Partial<BotRetryPolicy>;
}

/** Where dialog state is kept. */
export function dialogStateDir(dataDir: string): string {
  return path.join(dataDir, 'bot', 'dialogs');
}

/**
 * Creates the bot with every command registered.
 * @throws ConfigError-like Error when TG_BOT_TOKEN is missing (callers check first).
 */
export function createBot(
  deps: Omit<BotDeps, 'api'>,
  options: CreateBotOptions = {},
): { bot: Bot<BotContext>; deps: BotDeps } {
  const { config, logger } = deps;
  const token = config.telegram.botToken;
  if (!token) throw new Error('TG_BOT_TOKEN is not set');
  const bot = new Bot<BotContext>(token, {
    ...(options.botInfo ? { botInfo: options.botInfo } : {}),
    client: {
      apiRoot: config.telegram.apiRoot.replace(/\/+$/, ''),
      fetch: retryingFetch({
        logger,
        ...(options.retry ? { policy: options.retry } : {}),
        ...(options.fetch ? { base: options.fetch } : {}),
      }) as never,
    },
  });
  const full: BotDeps = { ...deps, api: (): Api => bot.api };
  const { t } = textsOf(full);

  bot.catch(async (err) => {
    const e = err.error;
    const reason =
      e instanceof GrammyError
        ? `Telegram: ${e.description}`
        : e instanceof HttpError
          ? `network: ${e.message}`
          : errorText(full, e);
    logger.error(
      { updateId: err.ctx.update.update_id, chatId: err.ctx.chat?.id, err: reason },
      'update failed',
    );
    if (err.ctx.callbackQuery) await err.ctx.answerCallbackQuery({ text: t.error }).catch(() => undefined);
    else if (err.ctx.chat) await err.ctx.reply(t.error).catch(() => undefined);
  });

  // One chat's updates in order (the runner processes chats concurrently).
  bot.use(sequentialize((ctx: BotContext) => ctx.chat?.id.toString()));

  // Access: only TG_ALLOWED_CHAT_IDS get anything; the rest is logged and dropped unanswered.
  bot.use(async (ctx, next) => {
    const chatId = ctx.chat?.id;
    if (chatId === undefined || !config.telegram.allowedChatIds.includes(String(chatId))) {
      logger.warn(
        { chatId, userId: ctx.from?.id, username: ctx.from?.username, update: Object.keys(ctx.update)[1] },
        'update from a chat that is not allowed (TG_ALLOWED_CHAT_IDS); ignored',
      );
      return;
    }
    await next();
  });

  bot.use(
    conversations<BotContext, DialogContext>({
      storage: {
        type: 'key',
        version: DIALOG_STATE_VERSION,
        // One dialog store per person in a chat: nobody else's /cancel, /help or /backfill ends it.
        getStorageKey: (ctx) => `${ctx.chat?.id ?? 'none'}:${ctx.from?.id ?? 'none'}`,
        adapter: new FileAdapter({
          dirName: dialogStateDir(config.dataDir),
          // A damaged state file abandons the dialog instead of breaking the chat.
          deserializer: (text: string) => {
            try {
              return JSON.parse(text) as never;
            } catch {
              logger.warn('unreadable dialog state abandoned');
              return undefined as never;
            }
          },
        }),
      },
    }),
  );

  registerHelp(bot, full);
  registerBackfill(bot, full);
  registerRun(bot, full);
  registerStatus(bot, full);
  registerHealth(bot, full);
  registerHistory(bot, full);
  registerAlerts(bot, full);

  // Buttons of finished, expired or abandoned dialogs: answer instead of leaving a spinner.
  bot.on('callback_query:data', (ctx) =>
    ctx.answerCallbackQuery({
      text: /^(bf|cal):/.test(ctx.callbackQuery.data) ? t.staleDialogButton : t.staleButton,
    }),
  );
  return { bot, deps: full };
}

/** Registers the command menu (setMyCommands) with descriptions in the bot language. */
export async function registerCommandMenu(api: Api, language: 'ru' | 'en'): Promise<void> {
  const t = botTexts(language);
  await api.setMyCommands(BOT_COMMANDS.map((command) => ({ command, description: t.commands[command] })));
}
