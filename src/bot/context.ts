/**
 * The bot's context types and the dependencies every chat command receives. Commands live in
 * the top-level `commands/` directory, one module per command, and register themselves on the
 * bot with `register(bot, deps)`.
 */
import type { Conversation, ConversationFlavor } from '@grammyjs/conversations';
import type { Api, Context } from 'grammy';
import type { Logger } from 'pino';
import type { Config } from '../config/loadConfig.js';
import type { Db } from '../clickhouse/db.js';
import type { Runner } from '../runner/runner.js';
import type { ScheduledTask } from '../scheduler/schedule.js';
import type { RunTracker } from './runTracker.js';
import { botTexts, zoneLabel, type BotTexts } from './texts.js';
import { configSecrets } from '../config/loadConfig.js';
import { createScrubber, describeError } from '../util/scrub.js';

/** Context outside conversations. */
export type BotContext = ConversationFlavor<Context>;
/** Context inside conversations (no conversation flavour, by the plugin's rules). */
export type DialogContext = Context;
/** A conversation of this bot. */
export type BotConversation = Conversation<BotContext, DialogContext>;

/** What the chat commands use. */
export interface BotDeps {
  config: Config;
  logger: Logger;
  db: Db;
  runner: Runner;
  /** Starts and tracks the runs of this process. */
  tracker: RunTracker;
  /** Next fire time per scheduled task; undefined when no scheduler runs in this process. */
  nextRuns?: (() => Array<{ task: ScheduledTask; at: Date }>) | undefined;
  /** unix ms. */
  now: () => number;
  /**
   * Keeps a promise of background chat work (a run's result reply, backfill progress) so the
   * shutdown waits for it. Never rejects: failures are logged.
   */
  background(task: Promise<unknown>): void;
  /** The bot's own API (with the retrying client), for messages sent outside an update. */
  api(): Api;
}

/** The texts and zone label of the configured language. */
export function textsOf(deps: BotDeps): { t: BotTexts; zone: string } {
  return {
    t: botTexts(deps.config.telegram.language),
    zone: zoneLabel(deps.config.timezone, deps.config.telegram.language),
  };
}

/** True when the update's sender is a bot admin (TG_ADMIN_USER_IDS). */
export function isAdmin(ctx: Context, deps: BotDeps): boolean {
  const id = ctx.from?.id;
  return id !== undefined && deps.config.telegram.adminUserIds.includes(String(id));
}

/** The actor recorded in `meta.etl_runs.actor` for a chat-started run: `<user id>:<username>`. */
export function actorOf(ctx: Context): string {
  const from = ctx.from;
  if (!from) return 'telegram:unknown';
  return `${from.id}:${from.username ?? [from.first_name, from.last_name].filter(Boolean).join(' ')}`;
}

/** An error as one line for logs, with every configured secret (the bot token too) masked. */
export function errorText(deps: Pick<BotDeps, 'config'>, error: unknown): string {
  return describeError(error, createScrubber(configSecrets(deps.config)));
}
