/**
 * Telegram delivery of alerts: the notifier and the HTML helpers alert texts are built with.
 * Source: https://core.telegram.org/bots/api
 */
export {
  createTelegramNotifier,
  TELEGRAM_CHAT_STATE_FILE,
  type TelegramNotifierOptions,
} from './telegramNotifier.js';
export { escapeHtml, htmlToPlainText, unescapeHtml } from '../html.js';
export { splitHtml, TELEGRAM_TEXT_LIMIT } from './split.js';
