/**
 * A local Telegram Bot API server for tests and `etl demo` (node:http only). It speaks the wire
 * format of https://core.telegram.org/bots/api at `{url}/bot<token>/<method>` (GET with a query
 * string, or POST with a JSON, form-urlencoded or multipart body) and answers
 * `{"ok":true,"result":…}` or `{"ok":false,"error_code":N,"description":"…","parameters":{…}}` with
 * the HTTP status equal to `error_code`, like Telegram.
 *
 * Methods: getMe, getChat, sendMessage, editMessageText, sendDocument, sendPhoto (PNG/JPEG),
 * sendChatAction, answerCallbackQuery, setMyCommands, deleteWebhook, getUpdates (long polling; 409
 * when `faults.pollConflict`). Validation follows Telegram: 4096 characters of text
 * and 1024 of caption after entity parsing, and the HTML parse mode's tag subset
 * (https://core.telegram.org/bots/api#html-style), checked by {@link parseTelegramHtml}, and inline
 * keyboards in `reply_markup` (a label, one action, `callback_data` of 1–64 bytes). Faults (429
 * with `retry_after`, migrated groups, kicked bots, dropped connections, slow answers) are switched
 * on per request through the mutable {@link TelegramFaults} object.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { UserFromGetMe } from 'grammy/types';
import { Response as UndiciResponse } from 'undici';
import { createDelays, listen } from './listen.js';

/**
 * Fault switches, read on every request; tests flip them between calls. Chat ids are compared
 * as strings (`"-1001234"`), whatever type the client sent.
 */
export interface TelegramFaults {
  /**
   * The next N calls of any method except `getUpdates` (so that a polling bot in the same test
   * does not eat them) answer 429 `Too Many Requests: retry after <retryAfterSeconds>` with
   * `parameters.retry_after`. @default 0
   */
  status429Count: number;
  /** `retry_after` of those 429 answers, seconds. @default 1 */
  retryAfterSeconds: number;
  /** The next N calls except `getUpdates` answer 500 `Internal Server Error`. @default 0 */
  status5xxCount: number;
  /**
   * Groups that became supergroups: old chat id → new chat id. Sending to (or editing in) an old
   * id answers 400 `Bad Request: group chat was upgraded to a supergroup chat` with
   * `parameters.migrate_to_chat_id` (a number, as Telegram sends it). @default {}
   */
  migratedChats: Record<string, string>;
  /** Chats the bot was removed from: 403 `Forbidden: bot was kicked from the group chat`. @default [] */
  kickedChats: string[];
  /** Private chats whose user blocked the bot: 403 `Forbidden: bot was blocked by the user`. @default [] */
  blockedChats: string[];
  /** Chats that do not exist (or never saw the bot): 400 `Bad Request: chat not found`. @default [] */
  missingChats: string[];
  /**
   * While true, every request's connection is destroyed on arrival without an answer, so the
   * client sees a network error (socket hang up / ECONNRESET). @default false
   */
  unreachable: boolean;
  /** Delay before every answer (after the request body was read), ms; for timeout tests. @default 0 */
  delayMs: number;
  /**
   * While true, getUpdates answers 409 `Conflict: terminated by other getUpdates request; make
   * sure that only one bot instance is running`, as Telegram does when a second instance polls
   * the same token. @default false
   */
  pollConflict: boolean;
  /** Restores every switch to its default. */
  reset(): void;
}

/** One API call as the sandbox received it (also calls with a wrong token or unknown method). */
export interface TelegramRecordedRequest {
  /** Method name from the path, as sent (e.g. `sendMessage`). */
  method: string;
  /**
   * Parameters from the query string and body. Values from form and multipart bodies are strings,
   * except the JSON-typed fields (`reply_markup`, `link_preview_options`, `reply_parameters`,
   * `commands`, `entities`, `caption_entities`, `allowed_updates`, `scope`), which are parsed.
   */
  params: Record<string, unknown>;
  /**
   * Uploaded files of a multipart body, content decoded as UTF-8. `field` is the parameter that
   * refers to the file (`document` for grammY's `attach://<id>` references), else the part's name.
   */
  files?: Array<{ field: string; filename: string; content: string }>;
}

/** A message the bot sent, as it stands now (edits applied). */
export interface TelegramSentMessage {
  /** Chat id as a string, e.g. `"-1001234567890"`. */
  chatId: string;
  /** Per-chat message id: 1, 2, 3… in the order of sending to that chat. */
  messageId: number;
  /** The text (or document caption) exactly as sent, before entity parsing (still HTML-escaped). */
  text: string;
  /** The text after entity parsing, as a Telegram client would show it. */
  plainText: string;
  parseMode?: string;
  /** `reply_markup` as sent (or as last edited), e.g. `{ inline_keyboard: [[{ text, callback_data }]] }`. */
  replyMarkup?: unknown;
  /** `message_thread_id` (forum topic) of the message, when sent into one. */
  threadId?: number;
  /** For sendDocument: the uploaded file. */
  document?: { filename: string; content: string };
  /** For sendPhoto: the uploaded image, bytes as received. */
  photo?: { filename: string; content: Buffer };
}

/** One successful `editMessageText` of a message the bot sent, as the sandbox applied it. */
export interface TelegramEdit {
  /** Chat id as a string, e.g. `"-1001234567890"`. */
  chatId: string;
  /** The edited message's per-chat id (see {@link TelegramSentMessage.messageId}). */
  messageId: number;
  /** The new text before entity parsing (still HTML-escaped). */
  text: string;
  /** The new text after entity parsing. */
  plainText: string;
  parseMode?: string;
  /** The `reply_markup` of the edit; absent when none was sent (which removes the keyboard). */
  replyMarkup?: unknown;
}

/** Options of {@link startTelegramBotApi}. */
export interface TelegramBotApiOptions {
  /** The token the server accepts; others get 401. @default a random `<bot id>:<35 chars>` token */
  token?: string;
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. @default 0 */
  port?: number;
  /** Overrides of the `getMe` answer (and the `from` of sent messages). @default a bot `@sandbox_bot` */
  botInfo?: Partial<UserFromGetMe>;
}

/** A running sandbox. */
export interface TelegramBotApi {
  /** API root to pass as grammY's `apiRoot` / `TG_API_ROOT`, e.g. `http://127.0.0.1:40123` (no trailing slash). */
  url: string;
  /** The token the sandbox accepts. */
  token: string;
  faults: TelegramFaults;
  /** Every call, in arrival order. */
  requests: TelegramRecordedRequest[];
  /** Messages the bot sent, in sending order, as they stand after edits. */
  sent: TelegramSentMessage[];
  /** Successful `editMessageText` calls on messages of {@link sent}, in arrival order. */
  edits: TelegramEdit[];
  /** Queues an incoming update for getUpdates; `update_id` is assigned when missing. */
  pushUpdate(update: object): void;
  /** Answers held getUpdates polls with `[]`, stops listening and drops open connections. */
  close(): Promise<void>;
}

/** A `MessageEntity` produced by {@link parseTelegramHtml} (offsets and lengths in UTF-16 code units). */
export interface TelegramEntity {
  type: string;
  offset: number;
  length: number;
  url?: string;
  language?: string;
}

/** Thrown by {@link parseTelegramHtml}; `message` is the part after "Bad Request: can't parse entities: ". */
export class TelegramHtmlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TelegramHtmlError';
  }
}

const ENTITY_TYPE: Record<string, string> = {
  b: 'bold',
  strong: 'bold',
  i: 'italic',
  em: 'italic',
  u: 'underline',
  ins: 'underline',
  s: 'strikethrough',
  strike: 'strikethrough',
  del: 'strikethrough',
  a: 'text_link',
  code: 'code',
  pre: 'pre',
  blockquote: 'blockquote',
  'tg-spoiler': 'spoiler',
  span: 'spoiler',
};

const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

/** Decodes the character entity at `html[i] === '&'`; undefined when there is none. */
function decodeEntityAt(html: string, i: number): { char: string; end: number } | undefined {
  const m = /^&(?:(lt|gt|amp|quot)|#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6}));/.exec(html.slice(i, i + 12));
  if (!m) return undefined;
  let char: string;
  if (m[1] !== undefined) char = NAMED_ENTITIES[m[1]] as string;
  else {
    const code = m[2] !== undefined ? Number(m[2]) : parseInt(m[3] as string, 16);
    if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return undefined;
    char = String.fromCodePoint(code);
  }
  return { char, end: i + m[0].length };
}

/**
 * Parses text in Telegram's HTML parse mode into plain text and message entities, rejecting what
 * Telegram rejects. Supported tags: b, strong, i, em, u, ins, s, strike, del, a href, code
 * (class="language-…" inside pre), pre, blockquote (optionally `expandable`), tg-spoiler,
 * span class="tg-spoiler"; entities `&lt; &gt; &amp; &quot;` and numeric `&#N;` / `&#xH;`.
 * Stricter than Telegram in one way, on purpose: a `&` that does not start one of those
 * entities is an error (Telegram keeps it as text), so that a missing escape shows in tests.
 * Errors are worded like Telegram's, with UTF-8 byte offsets.
 * @returns `text` (what a client shows) and `entities` (UTF-16 offsets, sorted by offset).
 * @throws TelegramHtmlError for an unsupported or unclosed tag, an unmatched end tag, a bare `<`
 *         or `&`, or a span without class "tg-spoiler".
 * Source: https://core.telegram.org/bots/api#html-style
 */
export function parseTelegramHtml(html: string): { text: string; entities: TelegramEntity[] } {
  const at = (i: number) => Buffer.byteLength(html.slice(0, i), 'utf8');
  const fail = (message: string) => new TelegramHtmlError(message);
  let text = '';
  const entities: TelegramEntity[] = [];
  const stack: Array<{ name: string; offset: number; attrs: Record<string, string> }> = [];
  let i = 0;
  while (i < html.length) {
    const ch = html[i] as string;
    if (ch === '&') {
      const decoded = decodeEntityAt(html, i);
      if (!decoded) throw fail(`Unsupported character entity or unescaped "&" at byte offset ${at(i)}`);
      text += decoded.char;
      i = decoded.end;
      continue;
    }
    if (ch !== '<') {
      text += ch;
      i++;
      continue;
    }
    const tagStart = i;
    if (html[i + 1] === '/') {
      const close = html.indexOf('>', i);
      if (close < 0) throw fail(`Unclosed end tag at byte offset ${at(tagStart)}`);
      const name = html
        .slice(i + 2, close)
        .trim()
        .toLowerCase();
      const open = stack.pop();
      if (!open) throw fail(`Unexpected end tag at byte offset ${at(tagStart)}`);
      if (open.name !== name) {
        throw fail(
          `Unmatched end tag at byte offset ${at(tagStart)}, expected "</${open.name}>", found "</${name}>"`,
        );
      }
      i = close + 1;
      const length = text.length - open.offset;
      const parent = stack[stack.length - 1];
      if (name === 'code' && parent?.name === 'pre') {
        const lang = /^language-(.+)$/.exec(open.attrs.class ?? '');
        if (lang) parent.attrs['data-language'] = lang[1] as string;
        continue;
      }
      if (length === 0) continue;
      const entity: TelegramEntity = { type: ENTITY_TYPE[name] as string, offset: open.offset, length };
      if (name === 'a') entity.url = open.attrs.href ?? text.slice(open.offset);
      if (name === 'pre' && open.attrs['data-language']) entity.language = open.attrs['data-language'];
      if (name === 'blockquote' && 'expandable' in open.attrs) entity.type = 'expandable_blockquote';
      entities.push(entity);
      continue;
    }
    const nameMatch = /^[a-zA-Z][a-zA-Z0-9-]*/.exec(html.slice(i + 1, i + 40));
    const name = nameMatch ? nameMatch[0].toLowerCase() : '';
    if (!Object.hasOwn(ENTITY_TYPE, name))
      throw fail(`Unsupported start tag "${name}" at byte offset ${at(tagStart)}`);
    i += 1 + name.length;
    const attrs: Record<string, string> = {};
    for (;;) {
      while (i < html.length && /\s/.test(html[i] as string)) i++;
      if (i >= html.length) throw fail(`Unclosed start tag at byte offset ${at(tagStart)}`);
      if (html[i] === '>') {
        i++;
        break;
      }
      const attrName = /^[a-zA-Z0-9_-]+/.exec(html.slice(i, i + 64))?.[0];
      if (!attrName) throw fail(`Empty attribute name in the tag "${name}" at byte offset ${at(tagStart)}`);
      i += attrName.length;
      while (i < html.length && /\s/.test(html[i] as string)) i++;
      if (html[i] !== '=') {
        attrs[attrName.toLowerCase()] = '';
        continue;
      }
      i++;
      while (i < html.length && /\s/.test(html[i] as string)) i++;
      let raw: string;
      const quote = html[i];
      if (quote === '"' || quote === "'") {
        const end = html.indexOf(quote, i + 1);
        if (end < 0) throw fail(`Unclosed start tag at byte offset ${at(tagStart)}`);
        raw = html.slice(i + 1, end);
        i = end + 1;
      } else {
        raw = /^[^\s>]*/.exec(html.slice(i))?.[0] ?? '';
        i += raw.length;
      }
      if (raw.includes('<'))
        throw fail(`Unescaped "<" in an attribute of the tag "${name}" at byte offset ${at(tagStart)}`);
      let value = '';
      for (let k = 0; k < raw.length;) {
        if (raw[k] === '&') {
          const decoded = decodeEntityAt(raw, k);
          if (!decoded) {
            throw fail(
              `Unsupported character entity or unescaped "&" in the tag "${name}" at byte offset ${at(tagStart)}`,
            );
          }
          value += decoded.char;
          k = decoded.end;
        } else value += raw[k++];
      }
      attrs[attrName.toLowerCase()] = value;
    }
    if (name === 'span' && attrs.class !== 'tg-spoiler') {
      throw fail(`Tag "span" must have class "tg-spoiler" at byte offset ${at(tagStart)}`);
    }
    stack.push({ name, offset: text.length, attrs });
  }
  const open = stack.pop();
  if (open) throw fail(`Can't find end tag corresponding to start tag "${open.name}"`);
  entities.sort((a, b) => a.offset - b.offset || b.length - a.length);
  return { text, entities };
}

type Params = Record<string, unknown>;

interface Reply {
  status: number;
  body: unknown;
}

const JSON_FIELDS = new Set([
  'reply_markup',
  'link_preview_options',
  'reply_parameters',
  'commands',
  'entities',
  'caption_entities',
  'allowed_updates',
  'scope',
]);

const METHODS = new Set([
  'getMe',
  'sendMessage',
  'editMessageText',
  'sendDocument',
  'sendPhoto',
  'sendChatAction',
  'getChat',
  'answerCallbackQuery',
  'setMyCommands',
  'deleteWebhook',
  'getUpdates',
]);

function ok(result: unknown): Reply {
  return { status: 200, body: { ok: true, result } };
}

function apiError(status: number, description: string, parameters?: Params): Reply {
  return {
    status,
    body: { ok: false, error_code: status, description, ...(parameters ? { parameters } : {}) },
  };
}

function badRequest(what: string): Reply {
  return apiError(400, `Bad Request: ${what}`);
}

/** Fields of an `InlineKeyboardButton` that give it an action; a button needs exactly one. */
const BUTTON_ACTIONS = [
  'url',
  'callback_data',
  'web_app',
  'login_url',
  'switch_inline_query',
  'switch_inline_query_current_chat',
  'switch_inline_query_chosen_chat',
  'copy_text',
  'callback_game',
  'pay',
];

/**
 * Checks `reply_markup` like Telegram: a JSON object; in an inline keyboard every button has a
 * non-empty label and an action, and `callback_data` is 1–64 bytes of UTF-8. `inlineOnly`: the
 * method accepts only an `InlineKeyboardMarkup` (editMessageText). Undefined when it is fine.
 * Source: https://core.telegram.org/bots/api#inlinekeyboardmarkup
 */
function replyMarkupFault(markup: unknown, inlineOnly: boolean): Reply | undefined {
  if (markup === undefined || markup === null || markup === '') return undefined;
  if (typeof markup !== 'object' || Array.isArray(markup)) {
    return badRequest("can't parse reply keyboard markup JSON object");
  }
  if (!('inline_keyboard' in markup)) {
    return inlineOnly ? badRequest("can't parse inline keyboard markup JSON object") : undefined;
  }
  const rows = markup.inline_keyboard;
  if (!Array.isArray(rows)) {
    return badRequest('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array');
  }
  for (const row of rows as unknown[]) {
    if (!Array.isArray(row))
      return badRequest('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays');
    for (const button of row as unknown[]) {
      if (typeof button !== 'object' || button === null || Array.isArray(button)) {
        return badRequest("can't parse inline keyboard button: InlineKeyboardButton must be an Object");
      }
      const b = button as Record<string, unknown>;
      if (typeof b.text !== 'string') {
        return badRequest('can\'t parse inline keyboard button: Field "text" must be of type String');
      }
      if (b.text.trim() === '') return badRequest('BUTTON_TEXT_INVALID');
      if (!BUTTON_ACTIONS.some((field) => b[field] !== undefined)) {
        return badRequest('text buttons are unallowed in the inline keyboard');
      }
      if (b.callback_data !== undefined) {
        const bytes = typeof b.callback_data === 'string' ? Buffer.byteLength(b.callback_data, 'utf8') : 0;
        if (bytes < 1 || bytes > 64) return badRequest('BUTTON_DATA_INVALID');
      }
    }
  }
  return undefined;
}

/** Telegram compares markups by what they show: an empty inline keyboard is no keyboard. */
function sameMarkup(a: unknown, b: unknown): boolean {
  const shown = (m: unknown) => {
    const rows = (m as { inline_keyboard?: unknown } | undefined | null)?.inline_keyboard;
    const empty = Array.isArray(rows) && rows.every((row) => Array.isArray(row) && row.length === 0);
    return m === undefined || m === null || m === '' || empty ? undefined : m;
  };
  return JSON.stringify(shown(a)) === JSON.stringify(shown(b));
}

/** Parses JSON-typed fields that arrived as strings (form and multipart bodies, query strings). */
function normaliseParams(params: Params): Params {
  for (const key of Object.keys(params)) {
    const value = params[key];
    if (JSON_FIELDS.has(key) && typeof value === 'string') {
      try {
        params[key] = JSON.parse(value) as unknown;
      } catch {
        // Left as the string: the method answers "can't parse …" where it matters.
      }
    }
  }
  return params;
}

/** A parameter as text: strings as they are, numbers as digits, objects as JSON, absent as ''. */
function asText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return JSON.stringify(value);
}

function asInt(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) return Number(value);
  return undefined;
}

/**
 * The complete `getMe` answer of the sandbox's bot (@sandbox_bot); also the `botInfo` that lets a
 * test drive grammY with `handleUpdate` and no getMe call. `overrides` replace single fields.
 */
export function sandboxBotInfo(overrides: Partial<UserFromGetMe> = {}): UserFromGetMe {
  return {
    id: 7_000_000_001,
    is_bot: true,
    first_name: 'Sandbox Bot',
    username: 'sandbox_bot',
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
    has_topics_enabled: false,
    allows_users_to_create_topics: false,
    can_manage_bots: false,
    supports_join_request_queries: false,
    ...overrides,
  };
}

/**
 * Starts the sandbox on `host:port`.
 * @returns the running server's handle; call `close()` when done.
 * @throws the listen error (e.g. EADDRINUSE for a fixed port).
 * Source: https://core.telegram.org/bots/api#making-requests
 */
export async function startTelegramBotApi(options: TelegramBotApiOptions = {}): Promise<TelegramBotApi> {
  const botInfo: UserFromGetMe = { ...sandboxBotInfo(), ...options.botInfo };
  const token = options.token ?? `${botInfo.id}:${randomBytes(27).toString('base64url').slice(0, 35)}`;

  const defaults = () => ({
    status429Count: 0,
    retryAfterSeconds: 1,
    status5xxCount: 0,
    migratedChats: {} as Record<string, string>,
    kickedChats: [] as string[],
    blockedChats: [] as string[],
    missingChats: [] as string[],
    unreachable: false,
    delayMs: 0,
    pollConflict: false,
  });
  const faults: TelegramFaults = {
    ...defaults(),
    reset() {
      Object.assign(faults, defaults());
    },
  };
  const requests: TelegramRecordedRequest[] = [];
  const sent: TelegramSentMessage[] = [];
  const edits: TelegramEdit[] = [];
  const lastMessageId = new Map<string, number>();
  let closing = false;

  // ---- updates queue and long polling ----
  const updates: Array<{ update_id: number } & Params> = [];
  let nextUpdateId = 1;
  const waiters = new Set<() => void>();
  function wakeWaiters(): void {
    for (const wake of [...waiters]) wake();
  }
  function pushUpdate(update: object): void {
    const given = asInt((update as Params).update_id);
    const id = given ?? nextUpdateId;
    nextUpdateId = Math.max(nextUpdateId, id + 1);
    updates.push({ ...(update as Params), update_id: id });
    wakeWaiters();
  }

  async function getUpdates(params: Params, res: ServerResponse): Promise<Reply> {
    if (faults.pollConflict) {
      return apiError(
        409,
        'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
      );
    }
    const offset = asInt(params.offset);
    const limit = Math.min(100, Math.max(1, asInt(params.limit) ?? 100));
    const timeoutSeconds = Math.max(0, asInt(params.timeout) ?? 0);
    if (offset !== undefined && offset > 0) {
      // "An update is considered confirmed as soon as getUpdates is called with an offset higher than its update_id."
      while (updates.length > 0 && (updates[0] as { update_id: number }).update_id < offset) updates.shift();
    } else if (offset !== undefined && offset < 0) {
      updates.splice(0, Math.max(0, updates.length + offset));
    }
    const pending = () => updates.slice(0, limit);
    if (pending().length > 0 || timeoutSeconds === 0 || closing) return ok(pending());
    // A newer poll releases the held one (Telegram answers it 409; an empty answer avoids a race
    // with a client that aborted its poll and immediately polls again, as grammY's stop() does).
    wakeWaiters();
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        res.off('close', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutSeconds * 1000);
      waiters.add(done);
      res.once('close', done);
    });
    return ok(pending());
  }

  // ---- messages ----
  function chatOf(chatId: string): Params {
    if (chatId.startsWith('@')) return { id: -1_000_000_000_000, type: 'channel', username: chatId.slice(1) };
    const id = Number(chatId);
    if (id > 0) return { id, type: 'private', first_name: 'Sandbox User' };
    return chatId.startsWith('-100')
      ? { id, type: 'supergroup', title: 'Sandbox supergroup', is_forum: true }
      : { id, type: 'group', title: 'Sandbox group' };
  }

  /** The chat checks shared by the methods that post into a chat; undefined when the chat is fine. */
  function chatFault(chatId: string): Reply | undefined {
    const migratedTo = faults.migratedChats[chatId];
    if (migratedTo !== undefined) {
      return apiError(400, 'Bad Request: group chat was upgraded to a supergroup chat', {
        migrate_to_chat_id: asInt(migratedTo) ?? migratedTo,
      });
    }
    if (faults.kickedChats.includes(chatId))
      return apiError(403, 'Forbidden: bot was kicked from the group chat');
    if (faults.blockedChats.includes(chatId)) return apiError(403, 'Forbidden: bot was blocked by the user');
    if (faults.missingChats.includes(chatId)) return badRequest('chat not found');
    return undefined;
  }

  function chatIdParam(params: Params): string | Reply {
    const raw = params.chat_id;
    if (raw === undefined || raw === null || raw === '') return badRequest('chat_id is empty');
    const chatId = asText(raw).trim();
    if (!/^-?\d+$/.test(chatId) && !/^@[A-Za-z0-9_]{4,}$/.test(chatId)) return badRequest('chat not found');
    return chatFault(chatId) ?? chatId;
  }

  /** Parses `text` per `parse_mode`; a Reply when Telegram would refuse it. */
  function parseText(
    text: string,
    parseMode: unknown,
    maxLength: number,
    tooLong: string,
  ): { plain: string; entities: TelegramEntity[] } | Reply {
    let plain = text;
    let entities: TelegramEntity[] = [];
    if (parseMode !== undefined && parseMode !== '') {
      if (parseMode !== 'HTML') {
        // MarkdownV2 is not implemented; say so instead of pretending it parsed.
        return badRequest(`unsupported parse_mode ${asText(parseMode)} in this sandbox (use HTML)`);
      }
      try {
        ({ text: plain, entities } = parseTelegramHtml(text));
      } catch (error: unknown) {
        if (error instanceof TelegramHtmlError) return badRequest(`can't parse entities: ${error.message}`);
        throw error;
      }
    }
    if (plain.length > maxLength) return badRequest(tooLong);
    return { plain, entities };
  }

  function messageObject(m: TelegramSentMessage, entities: TelegramEntity[], extra: Params = {}): Params {
    const isCaption = m.document !== undefined;
    return {
      message_id: m.messageId,
      from: {
        id: botInfo.id,
        is_bot: true,
        first_name: botInfo.first_name,
        username: botInfo.username,
      },
      chat: chatOf(m.chatId),
      date: Math.floor(Date.now() / 1000),
      ...(m.threadId !== undefined ? { message_thread_id: m.threadId, is_topic_message: true } : {}),
      ...(isCaption
        ? m.plainText !== ''
          ? { caption: m.plainText, ...(entities.length > 0 ? { caption_entities: entities } : {}) }
          : {}
        : { text: m.plainText, ...(entities.length > 0 ? { entities } : {}) }),
      ...(m.replyMarkup !== undefined ? { reply_markup: m.replyMarkup } : {}),
      ...extra,
    };
  }

  function record(
    chatId: string,
    fields: Omit<TelegramSentMessage, 'chatId' | 'messageId'>,
  ): TelegramSentMessage {
    const messageId = (lastMessageId.get(chatId) ?? 0) + 1;
    lastMessageId.set(chatId, messageId);
    const message: TelegramSentMessage = { chatId, messageId, ...fields };
    for (const key of Object.keys(message) as Array<keyof TelegramSentMessage>) {
      if (message[key] === undefined) delete message[key];
    }
    sent.push(message);
    return message;
  }

  function sendMessage(params: Params): Reply {
    const chatId = chatIdParam(params);
    if (typeof chatId !== 'string') return chatId;
    const text = asText(params.text);
    const parsed = parseText(text, params.parse_mode, 4096, 'message is too long');
    if ('status' in parsed) return parsed;
    if (parsed.plain.trim() === '') return badRequest('message text is empty');
    const markupFault = replyMarkupFault(params.reply_markup, false);
    if (markupFault) return markupFault;
    const message = record(chatId, {
      text,
      plainText: parsed.plain,
      parseMode: typeof params.parse_mode === 'string' ? params.parse_mode : undefined,
      replyMarkup: params.reply_markup,
      threadId: asInt(params.message_thread_id),
    });
    return ok(messageObject(message, parsed.entities));
  }

  function editMessageText(params: Params): Reply {
    if (params.inline_message_id !== undefined) return ok(true);
    const chatId = chatIdParam(params);
    if (typeof chatId !== 'string') return chatId;
    const messageId = asInt(params.message_id);
    if (messageId === undefined) return badRequest('message identifier is not specified');
    const message = sent.find((m) => m.chatId === chatId && m.messageId === messageId);
    if (!message) return badRequest('message to edit not found');
    if (message.document !== undefined) return badRequest('there is no text in the message to edit');
    const text = asText(params.text);
    const parsed = parseText(text, params.parse_mode, 4096, 'message is too long');
    if ('status' in parsed) return parsed;
    if (parsed.plain.trim() === '') return badRequest('message text is empty');
    const markupFault = replyMarkupFault(params.reply_markup, true);
    if (markupFault) return markupFault;
    const parseMode = typeof params.parse_mode === 'string' ? params.parse_mode : undefined;
    if (parsed.plain === message.plainText && sameMarkup(params.reply_markup, message.replyMarkup)) {
      return badRequest(
        'message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
      );
    }
    Object.assign(message, { text, plainText: parsed.plain, parseMode, replyMarkup: params.reply_markup });
    for (const key of ['parseMode', 'replyMarkup'] as const)
      if (message[key] === undefined) delete message[key];
    edits.push({
      chatId,
      messageId,
      text,
      plainText: parsed.plain,
      ...(parseMode !== undefined ? { parseMode } : {}),
      ...(params.reply_markup !== undefined ? { replyMarkup: params.reply_markup } : {}),
    });
    return ok(messageObject(message, parsed.entities, { edit_date: Math.floor(Date.now() / 1000) }));
  }

  type Uploads = Map<string, { filename: string; content: Buffer }>;

  /** The uploaded file a `field` (`document`, `photo`) refers to (grammY sends `attach://<id>`), or a 400. */
  function uploadOf(
    params: Params,
    files: Uploads,
    field: string,
  ): { filename: string; content: Buffer } | Reply {
    const ref = params[field];
    const attachId =
      typeof ref === 'string' && ref.startsWith('attach://') ? ref.slice('attach://'.length) : undefined;
    const file = attachId !== undefined ? files.get(attachId) : files.get(field);
    if (!file) {
      return ref === undefined || ref === ''
        ? badRequest(`there is no ${field} in the request`)
        : badRequest('wrong file identifier/HTTP URL specified');
    }
    if (file.content.length === 0) return badRequest('file must be non-empty');
    return file;
  }

  /**
   * A message carrying an upload: the caption (1024 characters after parsing) and keyboard are
   * validated like sendMessage's; `kept` is what the sandbox keeps of the file, `described` what
   * Telegram answers about it.
   */
  function sendUpload(
    chatId: string,
    params: Params,
    kept: Pick<TelegramSentMessage, 'document' | 'photo'>,
    described: (fileId: string) => Record<string, unknown>,
  ): Reply {
    const caption = asText(params.caption);
    const parsed = parseText(caption, params.parse_mode, 1024, 'message caption is too long');
    if ('status' in parsed) return parsed;
    const markupFault = replyMarkupFault(params.reply_markup, false);
    if (markupFault) return markupFault;
    const message = record(chatId, {
      text: caption,
      plainText: parsed.plain,
      parseMode: typeof params.parse_mode === 'string' ? params.parse_mode : undefined,
      replyMarkup: params.reply_markup,
      threadId: asInt(params.message_thread_id),
      ...kept,
    });
    return ok(messageObject(message, parsed.entities, described(`sandbox-${chatId}-${message.messageId}`)));
  }

  function sendDocument(params: Params, files: Uploads): Reply {
    const chatId = chatIdParam(params);
    if (typeof chatId !== 'string') return chatId;
    const file = uploadOf(params, files, 'document');
    if ('status' in file) return file;
    return sendUpload(
      chatId,
      params,
      { document: { filename: file.filename, content: file.content.toString('utf8') } },
      (fileId) => ({
        document: {
          file_id: fileId,
          file_unique_id: fileId,
          file_name: file.filename,
          mime_type: 'text/plain',
          file_size: file.content.length,
        },
      }),
    );
  }

  /** sendPhoto with an uploaded PNG or JPEG (what Telegram can process); 400 for anything else. */
  function sendPhoto(params: Params, files: Uploads): Reply {
    const chatId = chatIdParam(params);
    if (typeof chatId !== 'string') return chatId;
    const file = uploadOf(params, files, 'photo');
    if ('status' in file) return file;
    const png = file.content
      .subarray(0, 8)
      .equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const jpeg = file.content[0] === 0xff && file.content[1] === 0xd8;
    if (!png && !jpeg) return badRequest('IMAGE_PROCESS_FAILED');
    return sendUpload(
      chatId,
      params,
      { photo: { filename: file.filename, content: file.content } },
      (fileId) => ({
        photo: [
          { file_id: fileId, file_unique_id: fileId, width: 0, height: 0, file_size: file.content.length },
        ],
      }),
    );
  }

  /** sendChatAction: accepted for a known chat action, nothing recorded. */
  function sendChatAction(params: Params): Reply {
    const chatId = chatIdParam(params);
    if (typeof chatId !== 'string') return chatId;
    const known = [
      'typing',
      'upload_photo',
      'upload_document',
      'record_video',
      'upload_video',
      'find_location',
    ];
    return known.includes(String(params.action)) ? ok(true) : badRequest('wrong parameter action in request');
  }

  function setMyCommands(params: Params): Reply {
    const commands = params.commands;
    if (!Array.isArray(commands)) return badRequest("can't parse commands JSON object");
    if (commands.length > 100) return badRequest('BOT_COMMANDS_TOO_MUCH');
    for (const c of commands as Array<{ command?: unknown; description?: unknown }>) {
      if (typeof c?.command !== 'string' || !/^[a-z0-9_]{1,32}$/.test(c.command)) {
        return badRequest('BOT_COMMAND_INVALID');
      }
      if (typeof c.description !== 'string' || c.description.length < 1 || c.description.length > 256) {
        return badRequest('command description must be non-empty');
      }
    }
    return ok(true);
  }

  async function dispatch(
    method: string,
    params: Params,
    files: Map<string, { filename: string; content: Buffer }>,
    res: ServerResponse,
  ): Promise<Reply> {
    if (method !== 'getUpdates') {
      if (faults.status429Count > 0) {
        faults.status429Count--;
        return apiError(429, `Too Many Requests: retry after ${faults.retryAfterSeconds}`, {
          retry_after: faults.retryAfterSeconds,
        });
      }
      if (faults.status5xxCount > 0) {
        faults.status5xxCount--;
        return apiError(500, 'Internal Server Error');
      }
    }
    switch (method) {
      case 'getMe':
        return ok(botInfo);
      case 'sendMessage':
        return sendMessage(params);
      case 'editMessageText':
        return editMessageText(params);
      case 'sendDocument':
        return sendDocument(params, files);
      case 'sendPhoto':
        return sendPhoto(params, files);
      case 'sendChatAction':
        return sendChatAction(params);
      case 'getChat': {
        const chatId = chatIdParam(params);
        return typeof chatId === 'string' ? ok(chatOf(chatId)) : chatId;
      }
      case 'answerCallbackQuery':
        if (params.callback_query_id === undefined || params.callback_query_id === '') {
          return badRequest('query is too old and response timeout expired or query ID is invalid');
        }
        return ok(true);
      case 'setMyCommands':
        return setMyCommands(params);
      case 'deleteWebhook':
        return ok(true);
      case 'getUpdates':
        return getUpdates(params, res);
      default:
        return apiError(404, 'Not Found');
    }
  }

  // ---- HTTP ----
  async function readParams(
    req: IncomingMessage,
    url: URL,
    body: Buffer,
  ): Promise<{ params: Params; files: Map<string, { filename: string; content: Buffer }>; bad?: Reply }> {
    const params: Params = Object.fromEntries(url.searchParams);
    const files = new Map<string, { filename: string; content: Buffer }>();
    const type = (req.headers['content-type'] ?? '').toLowerCase();
    if (body.length === 0) return { params: normaliseParams(params), files };
    if (type.startsWith('application/json')) {
      try {
        const parsed = JSON.parse(body.toString('utf8')) as unknown;
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) Object.assign(params, parsed);
      } catch {
        return { params, files, bad: badRequest("can't parse JSON object") };
      }
    } else if (type.startsWith('application/x-www-form-urlencoded')) {
      Object.assign(params, Object.fromEntries(new URLSearchParams(body.toString('utf8'))));
    } else if (type.startsWith('multipart/form-data')) {
      try {
        // Node 20's built-in parser refuses grammY's header style; the undici package accepts it.
        const form = await new UndiciResponse(body, {
          headers: { 'content-type': req.headers['content-type'] as string },
        }).formData();
        for (const [name, value] of form) {
          if (typeof value === 'string') params[name] = value;
          else files.set(name, { filename: value.name, content: Buffer.from(await value.arrayBuffer()) });
        }
      } catch {
        return { params, files, bad: badRequest("can't parse multipart/form-data request") };
      }
    }
    return { params: normaliseParams(params), files };
  }

  function recordedFiles(params: Params, files: Map<string, { filename: string; content: Buffer }>) {
    return [...files].map(([name, f]) => {
      const field = Object.keys(params).find((k) => params[k] === `attach://${name}`) ?? name;
      return { field, filename: f.filename, content: f.content.toString('utf8') };
    });
  }

  const delays = createDelays();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (faults.unreachable) {
      req.socket.destroy();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://sandbox.local');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const match = /^\/bot([^/]*)\/([A-Za-z]+)$/.exec(url.pathname);
    let reply: Reply;
    if (!match) {
      reply = apiError(404, 'Not Found');
    } else {
      const [, givenToken, method] = match as unknown as [string, string, string];
      const { params, files, bad } = await readParams(req, url, Buffer.concat(chunks));
      const entry: TelegramRecordedRequest = { method, params };
      if (files.size > 0) entry.files = recordedFiles(params, files);
      requests.push(entry);
      if (faults.delayMs > 0) await delays.wait(faults.delayMs);
      if (decodeURIComponent(givenToken) !== token) reply = apiError(401, 'Unauthorized');
      else if (!METHODS.has(method)) reply = apiError(404, 'Not Found');
      else if (bad) reply = bad;
      else reply = await dispatch(method, params, files, res);
    }
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(reply.status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(reply.body));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent || res.destroyed) return;
      res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({
          ok: false,
          error_code: 500,
          description: `Internal Server Error: ${String(error)}`,
        }),
      );
    });
  });
  const baseUrl = await listen(server, options);

  return {
    url: baseUrl,
    token,
    faults,
    requests,
    sent,
    edits,
    pushUpdate,
    close: async () => {
      closing = true;
      wakeWaiters();
      delays.cancelAll();
      // Let the released polls write their answers before the sockets go.
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
