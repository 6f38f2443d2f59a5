/**
 * The Telegram side of the notifier port: alerts go to one chat (optionally one forum topic) via
 * grammY's `Api` with auto-retry for 429 `retry_after`. Long messages are split under 4096
 * characters, a long raw text goes as a `.txt` document, a group that became a supergroup is
 * followed (and remembered in the state directory), and every failure becomes one of the port's
 * two errors. Messages can carry an inline keyboard and be edited later (a resolved alert). The
 * bot token never appears in an error or a log line.
 * Source: https://core.telegram.org/bots/api#sendmessage, #senddocument, #editmessagetext,
 * #responseparameters.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { autoRetry } from '@grammyjs/auto-retry';
import { Api, GrammyError, HttpError, InputFile, type Transformer } from 'grammy';
import { pino } from 'pino';
import type { Logger } from '../../logger.js';
import { createScrubber, type Scrubber } from '../../util/scrub.js';
import {
  assertButtons,
  NotifierRejectedError,
  NotifierUnavailableError,
  type Delivery,
  type EditedMessage,
  type MessageButton,
  type MessageTarget,
  type Notifier,
  type OutgoingMessage,
} from '../notifier.js';
import { escapeHtml, htmlToPlainText } from '../html.js';
import { splitHtml, TELEGRAM_TEXT_LIMIT } from './split.js';

/** Options of {@link createTelegramNotifier}. */
export interface TelegramNotifierOptions {
  /** Bot token from @BotFather (`TG_BOT_TOKEN`). Never logged. */
  token: string;
  /** Target chat id (`TG_CHAT_ID`), e.g. `-1001234567890`. */
  chatId: string;
  /** `message_thread_id` of a forum topic to post into (`TG_TOPIC_ID`). @default none (the chat's main thread) */
  topicId?: number;
  /** Bot API root without a trailing slash (`TG_API_ROOT`), e.g. `https://api.telegram.org`. */
  apiRoot: string;
  /** Directory for `telegram_chat.json`, where a migrated chat id is remembered across restarts. Created when needed. */
  stateDir: string;
  /** @default a silent logger */
  logger?: Logger;
  /**
   * Longest 429 `retry_after` the notifier waits out, seconds, per attempt (up to 3 retries per
   * call); a longer one fails the send with NotifierUnavailableError at once. @default 60
   */
  maxRetryDelaySeconds?: number;
  /** Timeout of one Bot API request, ms. @default 30000 */
  requestTimeoutMs?: number;
}

/** Shape of `<stateDir>/telegram_chat.json`. */
interface ChatState {
  /** The configured `TG_CHAT_ID` the migration was observed for. */
  configuredChatId: string;
  /** The chat id Telegram told us to use instead. */
  chatId: string;
  /** ISO instant of the migration. */
  migratedAt: string;
}

/** File in `stateDir` that remembers a group → supergroup migration. */
export const TELEGRAM_CHAT_STATE_FILE = 'telegram_chat.json';

/** grammY's Node build types signals with the abort-controller shim; a native AbortSignal works at run time. */
type GrammySignal = Parameters<Api['sendMessage']>[3];

const MAX_RETRY_ATTEMPTS = 3;
const MAX_MIGRATIONS_PER_CALL = 2;

interface Part {
  text: string;
  /** false: sent without parse_mode (the fallback when the markup cannot be split or parsed). */
  html: boolean;
}

/** Makes an uploaded file name safe for grammY's multipart header (it does not quote it) and ends it in .txt. */
function safeFilename(name: string): string {
  const base = path
    .basename(name)
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .replace(/^\.+/, '');
  const stem = base.replace(/\.txt$/i, '').slice(0, 60);
  return `${stem === '' ? 'attachment' : stem}.txt`;
}

function isParseError(error: unknown): boolean {
  return (
    error instanceof GrammyError &&
    error.error_code === 400 &&
    /can't parse entities/i.test(error.description)
  );
}

function isNotModified(error: unknown): boolean {
  return (
    error instanceof GrammyError &&
    error.error_code === 400 &&
    /message is not modified/i.test(error.description)
  );
}

/** The Bot API's `InlineKeyboardMarkup` of the port's buttons; `[]` (no buttons) when none. */
function inlineKeyboard(buttons: readonly (readonly MessageButton[])[] | undefined) {
  return {
    inline_keyboard: (buttons ?? []).map((row) =>
      row.map((b) => ({ text: b.text, callback_data: b.callbackData })),
    ),
  };
}

/** What a failed call was doing, for the error message. */
interface CallSubject {
  /** e.g. `the alert`, `the edit of message 42`. */
  noun: string;
  /** e.g. `sending the alert to`. */
  doing: string;
  /** The chat the call went to. */
  chatId: string;
}

function migrationTarget(error: unknown): string | undefined {
  if (!(error instanceof GrammyError) || error.error_code !== 400) return undefined;
  const to = error.parameters.migrate_to_chat_id;
  return typeof to === 'number' || typeof to === 'string' ? String(to) : undefined;
}

/**
 * Creates the Telegram notifier (channel `telegram`). Nothing is sent or read until the first
 * `send`.
 *
 * `send(message, signal)`:
 * - checks `message.buttons` (a RangeError before anything is sent, see `assertButtons`);
 * - splits `message.html` with {@link splitHtml} (4096) and sends the parts in order with
 *   `parse_mode: HTML`, link previews off and `message_thread_id` when `topicId` is set; parts
 *   that would show as blank are skipped; if the markup cannot be split, the plain text is sent;
 *   `message.buttons` go as the `reply_markup` of the last part (of the document when there is
 *   no text);
 * - then, when `message.attachment` is given, sends its text as a UTF-8 `.txt` document (file name
 *   reduced to `[A-Za-z0-9._-]`) replying to the first part; an empty attachment is skipped;
 * - waits out 429 `retry_after` up to `maxRetryDelaySeconds` (auto-retry, 3 retries per call);
 * - follows 400 `migrate_to_chat_id`: switches to the new chat id, writes it to
 *   `<stateDir>/telegram_chat.json`, logs it and resends; later instances configured with the same
 *   `chatId` start with the remembered one;
 * - on 400 "can't parse entities" logs an error and resends that part once as plain text (tags
 *   stripped, entities decoded).
 * @returns `{ chatId, messageIds }`: the chat actually used and the ids of the parts, then of the document.
 * @throws NotifierUnavailableError for network errors, timeouts, 5xx, 429 beyond the retry budget,
 *         an aborted `signal`; NotifierRejectedError (with Telegram's description as `reason`) for
 *         401, 403 (kicked, blocked, no rights), 404, 400 chat not found and other 400s, and for an
 *         empty message. Parts sent before a failure stay sent.
 *
 * `edit(target, message, signal)`: `editMessageText` of `target.messageId` with `parse_mode:
 * HTML`, link previews off and `reply_markup` set to `message.buttons` (an empty keyboard, which
 * removes the buttons, when none). A target in the configured chat goes to the chat it migrated
 * to, when one is remembered; a 400 `migrate_to_chat_id` is followed as for `send`. Telegram's
 * "message is not modified" counts as success; unparsable HTML is retried once as plain text.
 * @throws RangeError (bad buttons, before any call); NotifierUnavailableError and
 *         NotifierRejectedError as for `send`, e.g. rejected for 400 "message to edit not found"
 *         (deleted), "message can't be edited" and "message is too long".
 * Source: https://core.telegram.org/bots/api#sendmessage, #editmessagetext
 */
export function createTelegramNotifier(options: TelegramNotifierOptions): Notifier {
  const logger = options.logger ?? pino({ level: 'silent' });
  const scrub: Scrubber = createScrubber([options.token]);
  const maxRetryDelaySeconds = options.maxRetryDelaySeconds ?? 60;
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const statePath = path.join(options.stateDir, TELEGRAM_CHAT_STATE_FILE);
  const configuredChatId = options.chatId;

  const api = new Api(options.token, { apiRoot: options.apiRoot, timeoutSeconds: requestTimeoutMs / 1000 });
  // Inner transformer: sees every attempt, so each 429 the retry layer waits out is logged.
  const logRateLimits: Transformer = async (prev, method, payload, signal) => {
    const result = await prev(method, payload, signal);
    if (!result.ok && result.error_code === 429) {
      logger.warn(
        { method, retryAfterSeconds: result.parameters?.retry_after, maxRetryDelaySeconds },
        'Telegram rate limit hit',
      );
    }
    return result;
  };
  api.config.use(logRateLimits);
  api.config.use(
    autoRetry({
      maxDelaySeconds: maxRetryDelaySeconds,
      maxRetryAttempts: MAX_RETRY_ATTEMPTS,
      // Network errors and 5xx go back to the caller at once: the outbox retries them later,
      // instead of auto-retry's backoff of up to an hour inside one send.
      rethrowHttpErrors: true,
      rethrowInternalServerErrors: true,
    }),
  );

  let chatIdPromise: Promise<string> | undefined;
  let currentChatId = configuredChatId;

  async function loadChatId(): Promise<string> {
    let text: string;
    try {
      text = await readFile(statePath, 'utf8');
    } catch (error: unknown) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        logger.warn(
          { statePath, err: scrub(String(error)) },
          'could not read the remembered Telegram chat id; using TG_CHAT_ID',
        );
      }
      return configuredChatId;
    }
    try {
      const state = JSON.parse(text) as Partial<ChatState>;
      if (
        state.configuredChatId === configuredChatId &&
        typeof state.chatId === 'string' &&
        state.chatId !== ''
      ) {
        logger.info(
          { configuredChatId, chatId: state.chatId, migratedAt: state.migratedAt, statePath },
          'sending Telegram alerts to the supergroup the configured chat migrated to',
        );
        return state.chatId;
      }
      // TG_CHAT_ID was changed since: the old migration is about another chat.
      return configuredChatId;
    } catch {
      logger.warn({ statePath }, 'the remembered Telegram chat id is not valid JSON; using TG_CHAT_ID');
      return configuredChatId;
    }
  }

  async function migrate(from: string, to: string): Promise<void> {
    currentChatId = to;
    const state: ChatState = { configuredChatId, chatId: to, migratedAt: new Date().toISOString() };
    try {
      await mkdir(options.stateDir, { recursive: true });
      const tmp = `${statePath}.${process.pid}.tmp`;
      await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, 'utf8');
      await rename(tmp, statePath);
    } catch (error: unknown) {
      logger.error(
        { statePath, err: scrub(String(error)) },
        'could not remember the migrated Telegram chat id; it is followed again after a restart',
      );
    }
    logger.warn(
      { fromChatId: from, toChatId: to, configuredChatId, statePath },
      `Telegram group ${from} was upgraded to supergroup ${to}; alerts now go there. Set TG_CHAT_ID=${to} to make it permanent`,
    );
  }

  /**
   * Runs `call` against `startChatId` (the current chat by default), following up to two
   * migrations; a migration of the current chat is remembered.
   */
  async function inChat<T>(call: (chatId: string) => Promise<T>, startChatId = currentChatId): Promise<T> {
    let chatId = startChatId;
    for (let migrations = 0; ; migrations++) {
      try {
        return await call(chatId);
      } catch (error: unknown) {
        const to = migrationTarget(error);
        if (to === undefined || to === chatId || migrations >= MAX_MIGRATIONS_PER_CALL) throw error;
        if (chatId === currentChatId) await migrate(chatId, to);
        chatId = to;
      }
    }
  }

  /** The chat id to use, after the remembered migration (read once per instance). */
  async function ensureChatId(): Promise<string> {
    chatIdPromise ??= loadChatId().then((id) => (currentChatId = id));
    await chatIdPromise;
    return currentChatId;
  }

  function scrubbedCopy(error: unknown): Error {
    const inner =
      error instanceof HttpError && error.error instanceof Error ? ` ← ${error.error.message}` : '';
    const copy = new Error(scrub(`${error instanceof Error ? error.message : String(error)}${inner}`));
    copy.name = error instanceof Error ? error.name : 'Error';
    return copy;
  }

  function toNotifierError(
    error: unknown,
    signal: AbortSignal | undefined,
    subject: CallSubject = { noun: 'the alert', doing: 'sending the alert to', chatId: currentChatId },
  ): Error {
    if (error instanceof NotifierRejectedError || error instanceof NotifierUnavailableError) return error;
    const cause = scrubbedCopy(error);
    const chat = `chat ${subject.chatId}${options.topicId !== undefined ? ` (topic ${options.topicId})` : ''}`;
    if (signal?.aborted) {
      return new NotifierUnavailableError(`${subject.doing} Telegram ${chat} was aborted`, {
        cause,
      });
    }
    if (error instanceof GrammyError) {
      // A server that is not Telegram may answer JSON without a description.
      const reason = scrub(error.description || `HTTP ${error.error_code}`);
      const code = error.error_code;
      const rejected = (todo: string) =>
        new NotifierRejectedError(
          `Telegram refused ${subject.noun} for ${chat}: ${reason}; ${todo}`,
          reason,
          {
            cause,
          },
        );
      if (code === 429) {
        return new NotifierUnavailableError(
          `Telegram kept rate-limiting the bot (retry_after ${error.parameters.retry_after ?? '?'} s) beyond what the notifier waits (${maxRetryDelaySeconds} s per wait, ${MAX_RETRY_ATTEMPTS} retries)`,
          { cause },
        );
      }
      if (code >= 500) {
        return new NotifierUnavailableError(`Telegram answered ${code} (${reason}) for ${chat}`, { cause });
      }
      if (code === 401)
        return rejected('the bot token is wrong or revoked: check TG_BOT_TOKEN with @BotFather');
      if (code === 404) {
        return rejected(`check TG_API_ROOT (${options.apiRoot}) and the format of TG_BOT_TOKEN`);
      }
      if (code === 403) {
        if (/kicked|not a member|removed/i.test(reason))
          return rejected('add the bot to the chat again, or fix TG_CHAT_ID');
        if (/blocked/i.test(reason))
          return rejected('unblock the bot in that chat (press Start), or fix TG_CHAT_ID');
        if (/rights|administrator|not allowed/i.test(reason)) {
          return rejected('allow the bot to post messages (and documents) in the chat');
        }
        return rejected('check that the bot is a member of the chat allowed to post, or fix TG_CHAT_ID');
      }
      if (/chat not found/i.test(reason)) {
        return rejected('fix TG_CHAT_ID, and make sure the bot was added to that chat');
      }
      if (/thread not found|topic/i.test(reason)) return rejected('fix TG_TOPIC_ID, or reopen the topic');
      if (/message to edit not found/i.test(reason)) {
        return rejected('the message was deleted (or is in another chat); there is nothing to edit');
      }
      if (/message can't be edited/i.test(reason)) return rejected('Telegram no longer lets the bot edit it');
      return rejected('retrying the same message cannot help');
    }
    if (error instanceof HttpError) {
      return new NotifierUnavailableError(
        `the Telegram Bot API at ${options.apiRoot} could not be reached (${cause.message})`,
        { cause },
      );
    }
    return new NotifierUnavailableError(
      `${subject.doing} Telegram ${chat} failed unexpectedly (${cause.message})`,
      { cause },
    );
  }

  function toParts(html: string): Part[] {
    let parts: Part[];
    try {
      parts = splitHtml(html, TELEGRAM_TEXT_LIMIT).map((text) => ({ text, html: true }));
    } catch (error: unknown) {
      if (!(error instanceof RangeError)) throw error;
      logger.error(
        { err: error.message },
        'the alert markup cannot be split for Telegram; sending it as plain text',
      );
      // Escaped plain text has no tags, so it always splits; each part's plain text is no longer.
      parts = splitHtml(escapeHtml(htmlToPlainText(html)), TELEGRAM_TEXT_LIMIT).map((text) => ({
        text: htmlToPlainText(text),
        html: false,
      }));
    }
    return parts.filter((p) => (p.html ? htmlToPlainText(p.text) : p.text).trim() !== '');
  }

  async function sendPart(
    part: Part,
    buttons: OutgoingMessage['buttons'],
    signal: AbortSignal | undefined,
  ): Promise<number> {
    const send = (text: string, asHtml: boolean) =>
      inChat((chatId) =>
        api.sendMessage(
          chatId,
          text,
          {
            ...(asHtml ? { parse_mode: 'HTML' as const } : {}),
            link_preview_options: { is_disabled: true },
            ...(options.topicId !== undefined ? { message_thread_id: options.topicId } : {}),
            ...(buttons !== undefined && buttons.length > 0 ? { reply_markup: inlineKeyboard(buttons) } : {}),
          },
          signal as GrammySignal,
        ),
      );
    try {
      return (await send(part.text, part.html)).message_id;
    } catch (error: unknown) {
      if (!part.html || !isParseError(error)) throw error;
      logger.error(
        {
          chatId: currentChatId,
          reason: scrub(((error as GrammyError).description as string | undefined) ?? 'no description'),
          partChars: part.text.length,
        },
        'Telegram could not parse the alert HTML (an unescaped value?); resending it as plain text',
      );
      return (await send(htmlToPlainText(part.text), false)).message_id;
    }
  }

  async function sendAttachment(
    attachment: NonNullable<OutgoingMessage['attachment']>,
    replyTo: number | undefined,
    buttons: OutgoingMessage['buttons'],
    signal: AbortSignal | undefined,
  ): Promise<number> {
    const filename = safeFilename(attachment.filename);
    const content = Buffer.from(attachment.text, 'utf8');
    const message = await inChat((chatId) =>
      api.sendDocument(
        chatId,
        new InputFile(content, filename),
        {
          ...(options.topicId !== undefined ? { message_thread_id: options.topicId } : {}),
          ...(replyTo !== undefined
            ? { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } }
            : {}),
          ...(buttons !== undefined && buttons.length > 0 ? { reply_markup: inlineKeyboard(buttons) } : {}),
        },
        signal as GrammySignal,
      ),
    );
    return message.message_id;
  }

  return {
    channel: 'telegram',
    async send(message: OutgoingMessage, signal?: AbortSignal): Promise<Delivery> {
      const startedMs = Date.now();
      assertButtons(message.buttons);
      try {
        signal?.throwIfAborted();
        await ensureChatId();
        const parts = toParts(message.html);
        const attachment = message.attachment;
        if (parts.length === 0 && (attachment === undefined || attachment.text === '')) {
          throw new NotifierRejectedError(
            'the alert has no visible text and no attachment; nothing was sent to Telegram',
            'message text is empty',
          );
        }
        const messageIds: number[] = [];
        for (const [i, part] of parts.entries()) {
          messageIds.push(await sendPart(part, i === parts.length - 1 ? message.buttons : undefined, signal));
        }
        if (attachment !== undefined && attachment.text !== '') {
          try {
            const buttons = parts.length === 0 ? message.buttons : undefined;
            messageIds.push(await sendAttachment(attachment, messageIds[0], buttons, signal));
          } catch (error: unknown) {
            // The text is delivered; resending it whole for a failed attachment would duplicate it.
            if (messageIds.length === 0) throw error;
            logger.warn(
              { chatId: currentChatId, err: toNotifierError(error, signal).message },
              'the alert text was delivered but its attachment was not',
            );
          }
        }
        logger.debug(
          { chatId: currentChatId, parts: parts.length, messageIds, durationMs: Date.now() - startedMs },
          'alert delivered to Telegram',
        );
        return { chatId: currentChatId, messageIds };
      } catch (error: unknown) {
        const mapped = toNotifierError(error, signal);
        logger.debug(
          { chatId: currentChatId, err: mapped.message, durationMs: Date.now() - startedMs },
          'Telegram send failed',
        );
        throw mapped;
      }
    },
    async edit(target: MessageTarget, message: EditedMessage, signal?: AbortSignal): Promise<void> {
      const startedMs = Date.now();
      assertButtons(message.buttons);
      let chatId = target.chatId;
      try {
        signal?.throwIfAborted();
        const current = await ensureChatId();
        if (target.chatId === configuredChatId) chatId = current;
        const reply_markup = inlineKeyboard(message.buttons);
        const editTo = (text: string, asHtml: boolean) =>
          inChat(
            (inChatId) =>
              api.editMessageText(
                inChatId,
                target.messageId,
                text,
                {
                  ...(asHtml ? { parse_mode: 'HTML' as const } : {}),
                  link_preview_options: { is_disabled: true },
                  reply_markup,
                },
                signal as GrammySignal,
              ),
            chatId,
          );
        try {
          await editTo(message.html, true);
        } catch (error: unknown) {
          if (!isParseError(error)) throw error;
          logger.error(
            {
              chatId,
              messageId: target.messageId,
              reason: scrub(((error as GrammyError).description as string | undefined) ?? 'no description'),
            },
            'Telegram could not parse the edited alert HTML (an unescaped value?); editing it as plain text',
          );
          await editTo(htmlToPlainText(message.html), false);
        }
        logger.debug(
          { chatId, messageId: target.messageId, durationMs: Date.now() - startedMs },
          'alert message edited in Telegram',
        );
      } catch (error: unknown) {
        if (isNotModified(error)) return;
        const mapped = toNotifierError(error, signal, {
          noun: `the edit of message ${target.messageId}`,
          doing: `editing message ${target.messageId} in`,
          chatId,
        });
        logger.debug(
          { chatId, messageId: target.messageId, err: mapped.message, durationMs: Date.now() - startedMs },
          'Telegram edit failed',
        );
        throw mapped;
      }
    },
  };
}
