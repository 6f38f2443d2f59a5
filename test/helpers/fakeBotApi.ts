/**
 * In-process Bot API for grammY's real pipeline: `createBot(deps, { botInfo, fetch: api.fetch })`
 * then `bot.handleUpdate(update)`. Every outgoing call (also those made inside conversations)
 * is captured at the HTTP client with its JSON payload; sendMessage answers with increasing
 * message ids. Unknown methods answer 400 so a test fails loudly. Update builders included.
 */
import type { UserFromGetMe } from 'grammy/types';
import type { BotFetch, BotResponse } from '../../src/bot/retryingFetch.js';
import { sandboxBotInfo } from '../../src/sandbox/telegramBotApi.js';

/** One captured call. `payload` is the JSON body; multipart uploads carry `upload` (raw bytes). */
export interface FakeCall {
  method: string;
  payload: Record<string, unknown>;
  upload?: Buffer;
  /** The message id the fake answered a send with. */
  messageId?: number;
}

export const BOT_INFO: UserFromGetMe = sandboxBotInfo({
  id: 777,
  first_name: 'zakaz-etl',
  username: 'zakaz_etl_bot',
});

function response(status: number, body: unknown): BotResponse {
  const text = JSON.stringify(body);
  const make = (): BotResponse => ({ status, json: () => Promise.resolve(JSON.parse(text)), clone: make });
  return make();
}

async function readBody(body: unknown): Promise<Buffer> {
  if (typeof body === 'string') return Buffer.from(body);
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/** The fake API. */
export interface FakeBotApi {
  calls: FakeCall[];
  fetch: BotFetch;
  /** Calls of one method, in order. */
  of(method: string): FakeCall[];
  last(method: string): FakeCall | undefined;
  clear(): void;
  /** The next `count` calls of `method` answer 429 with `retry_after` seconds. */
  fail429(method: string, count: number, retryAfter: number): void;
  /** The next `count` calls of `method` answer `status` with Telegram's `description`. */
  fail(method: string, count: number, status: number, description: string): void;
}

/** Creates a fake Bot API. */
export function createFakeBotApi(): FakeBotApi {
  const calls: FakeCall[] = [];
  const faults = new Map<
    string,
    { count: number; retryAfter: number; status?: number; description?: string }
  >();
  let nextMessageId = 100;
  const fetch: BotFetch = async (url, init) => {
    const method = url.slice(url.lastIndexOf('/') + 1);
    const raw = await readBody(init.body);
    const headers = (init.headers ?? {}) as Record<string, string>;
    const contentType = headers['content-type'] ?? headers['Content-Type'] ?? '';
    const multipart = contentType.includes('multipart');
    const payload = multipart ? {} : (JSON.parse(raw.toString('utf8') || '{}') as Record<string, unknown>);
    const fault = faults.get(method);
    if (fault && fault.count > 0) {
      fault.count--;
      if (fault.status !== undefined) {
        calls.push({ method: `${method}#${fault.status}`, payload });
        return response(fault.status, {
          ok: false,
          error_code: fault.status,
          description: fault.description,
        });
      }
      calls.push({ method: `${method}#429`, payload });
      return response(429, {
        ok: false,
        error_code: 429,
        description: `Too Many Requests: retry after ${fault.retryAfter}`,
        parameters: { retry_after: fault.retryAfter },
      });
    }
    calls.push(multipart ? { method, payload, upload: raw } : { method, payload });
    const chat = { id: Number(payload.chat_id ?? 0), type: 'supergroup', title: 'team' };
    const message = (text: unknown) => ({
      message_id: nextMessageId++,
      date: Math.floor(Date.now() / 1000),
      chat,
      from: BOT_INFO,
      text: typeof text === 'string' ? text : '',
    });
    switch (method) {
      case 'getMe':
        return response(200, { ok: true, result: BOT_INFO });
      case 'sendMessage': {
        const sent = message(payload.text);
        (calls.at(-1) as FakeCall).messageId = sent.message_id;
        return response(200, { ok: true, result: sent });
      }
      case 'sendPhoto':
      case 'sendDocument':
        return response(200, { ok: true, result: { ...message(''), photo: [] } });
      case 'editMessageText':
        return response(200, {
          ok: true,
          result: { ...message(payload.text), message_id: Number(payload.message_id) },
        });
      case 'answerCallbackQuery':
      case 'setMyCommands':
      case 'deleteWebhook':
      case 'sendChatAction':
      case 'editMessageReplyMarkup':
        return response(200, { ok: true, result: true });
      default:
        return response(400, {
          ok: false,
          error_code: 400,
          description: `fake: method ${method} not supported`,
        });
    }
  };
  return {
    calls,
    fetch,
    of: (method) => calls.filter((c) => c.method === method),
    last: (method) => calls.filter((c) => c.method === method).at(-1),
    clear: () => void calls.splice(0),
    fail429: (method, count, retryAfter) => void faults.set(method, { count, retryAfter }),
    fail: (method, count, status, description) =>
      void faults.set(method, { count, retryAfter: 0, status, description }),
  };
}

let updateId = 1;

/** Who sends an update. */
export interface Sender {
  chatId: number;
  userId: number;
  username?: string;
}

/** A text message update; a leading `/command` gets its bot_command entity. */
export function textUpdate(text: string, from: Sender): object {
  const command = /^\/\S+/.exec(text)?.[0];
  return {
    update_id: updateId++,
    message: {
      message_id: updateId + 10_000,
      date: Math.floor(Date.now() / 1000),
      chat: { id: from.chatId, type: 'supergroup', title: 'team' },
      from: { id: from.userId, is_bot: false, first_name: 'User', username: from.username },
      text,
      ...(command ? { entities: [{ type: 'bot_command', offset: 0, length: command.length }] } : {}),
    },
  };
}

/** A button tap on the bot's message `messageId`. */
export function callbackUpdate(data: string, messageId: number, from: Sender, messageDate?: number): object {
  return {
    update_id: updateId++,
    callback_query: {
      id: String(updateId),
      chat_instance: 'ci',
      data,
      from: { id: from.userId, is_bot: false, first_name: 'User', username: from.username },
      message: {
        message_id: messageId,
        date: messageDate ?? Math.floor(Date.now() / 1000),
        chat: { id: from.chatId, type: 'supergroup', title: 'team' },
        from: BOT_INFO,
        text: '…',
      },
    },
  };
}

/** All callback_data of an inline keyboard payload (`reply_markup`). */
export function buttonsOf(call: FakeCall | undefined): string[] {
  const markup = call?.payload.reply_markup as
    { inline_keyboard?: Array<Array<{ callback_data?: string }>> } | undefined;
  return (markup?.inline_keyboard ?? []).flat().flatMap((b) => (b.callback_data ? [b.callback_data] : []));
}

/** The `text` of a captured call ('' when none). */
export function textOf(call: FakeCall | undefined): string {
  const text = call?.payload.text;
  return typeof text === 'string' ? text : '';
}
