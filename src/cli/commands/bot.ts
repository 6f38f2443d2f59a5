/**
 * `etl bot` (also `npm start`): the long-running ChatOps process — scheduler, runners and chat
 * commands in one (src/bot/service.ts). SIGTERM/SIGINT stop it gracefully: running jobs get
 * BOT_SHUTDOWN_TIMEOUT_MS to finish, then are aborted and recorded as cancelled.
 */
import { runBot } from '../../bot/index.js';
import type { CommandContext } from '../main.js';

/** Runs the bot until stopped. @returns 0 after a requested stop, 1 when polling died. @throws ConfigError (2), DatabaseBusyError (75). */
export async function botCommand(ctx: CommandContext): Promise<number> {
  const config = ctx.config();
  const logger = ctx.logger(config);
  return runBot({
    config,
    logger,
    notifier: ctx.notifier(config, logger),
    handleSignals: false,
    ...(ctx.io.signal ? { signal: ctx.io.signal } : {}),
    onReady: ({ username }) =>
      ctx.out(
        `etl bot: @${username} is polling Telegram; the schedule is armed. Stop with Ctrl-C or SIGTERM.`,
      ),
  });
}
