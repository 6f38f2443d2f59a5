/** Chooses where alerts go: Telegram when `TG_BOT_TOKEN` and `TG_CHAT_ID` are set, else the terminal. */
import type { Logger } from 'pino';
import type { Config } from '../config/loadConfig.js';
import type { Notifier } from '../notify/notifier.js';
import { createTelegramNotifier } from '../notify/telegram/index.js';
import { createTerminalNotifier } from '../notify/terminalNotifier.js';

/** True when Telegram delivery is configured. */
export function telegramConfigured(config: Config): boolean {
  return Boolean(config.telegram.botToken && config.telegram.chatId);
}

/**
 * The notifier for this configuration.
 * @param write where terminal alerts are printed when Telegram is not configured.
 */
export function createNotifier(config: Config, logger: Logger, write: (text: string) => void): Notifier {
  const { botToken, chatId, topicId, apiRoot } = config.telegram;
  if (botToken && chatId) {
    return createTelegramNotifier({
      token: botToken,
      chatId,
      ...(topicId === undefined ? {} : { topicId }),
      apiRoot,
      stateDir: config.dataDir,
      logger,
    });
  }
  return createTerminalNotifier(write);
}
