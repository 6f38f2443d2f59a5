/**
 * `etl notify "text"` (the runbook's alert_notify): sends a text to the team chat. Exit 0
 * delivered, 1 not delivered (with Telegram's reason), 2 when TG_BOT_TOKEN / TG_CHAT_ID are not
 * configured or the text is empty.
 */
import { createNotifier, telegramConfigured } from '../../app/notifier.js';
import { ConfigError, ExitCode, UsageError } from '../../errors.js';
import { escapeHtml } from '../../notify/html.js';
import { NotifierRejectedError } from '../../notify/notifier.js';
import type { CommandContext } from '../main.js';

/** Sends `text` as is (escaped, not interpreted as HTML). @returns 0 delivered, 1 not. @throws ConfigError/UsageError (2). */
export async function notifyCommand(ctx: CommandContext, text: string): Promise<number> {
  if (text.trim() === '') throw new UsageError('the text to send is empty');
  const config = ctx.config();
  if (!telegramConfigured(config)) {
    throw new ConfigError(['TG_BOT_TOKEN and TG_CHAT_ID: both are needed to send to Telegram']);
  }
  const notifier = createNotifier(config, ctx.logger(config), () => undefined);
  try {
    const delivery = await notifier.send({ html: escapeHtml(text) });
    ctx.out(`delivered to chat ${delivery.chatId} (message ${delivery.messageIds.join(', ')})`);
    return ExitCode.ok;
  } catch (error: unknown) {
    const reason =
      error instanceof NotifierRejectedError
        ? error.reason
        : error instanceof Error
          ? error.message
          : String(error);
    ctx.io.stderr.write(`etl: not delivered: ${reason}\n`);
    return ExitCode.failed;
  }
}
