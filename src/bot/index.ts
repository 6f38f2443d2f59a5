/**
 * The ChatOps bot: `runBot` (the `etl bot` process: scheduler, runners, chat), `createBot` (the
 * grammY bot with every command, for tests and embedding), and the types the chat commands in
 * `commands/` use. Telegram Bot API: https://core.telegram.org/bots/api
 */
export { runBot, type RunBotOptions } from './service.js';
export { createBot, registerCommandMenu, DIALOG_STATE_VERSION, type CreateBotOptions } from './createBot.js';
export type { BotContext, BotDeps, DialogContext } from './context.js';
export { createRunTracker, type InFlightRun, type RunTracker } from './runTracker.js';
export { retryingFetch, type BotFetch, type BotRetryPolicy } from './retryingFetch.js';
