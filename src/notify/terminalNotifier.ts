/**
 * The notifier without Telegram (no `TG_BOT_TOKEN`, e.g. `npm run demo`): alerts are printed to
 * the terminal as plain text and still stored in `meta.etl_alerts` (delivery state `printed`).
 */
import { htmlToPlainText } from './html.js';
import type { Delivery, Notifier, OutgoingMessage } from './notifier.js';

/** Prints alerts with `write` (one block per alert). */
export function createTerminalNotifier(write: (text: string) => void): Notifier {
  return {
    channel: 'terminal',
    send(message: OutgoingMessage): Promise<Delivery> {
      const text = htmlToPlainText(message.html);
      const extra = message.attachment
        ? `\n--- ${message.attachment.filename} ---\n${message.attachment.text}`
        : '';
      write(`\n${text}${extra}\n`);
      return Promise.resolve({ chatId: 'terminal', messageIds: [] });
    },
  };
}
