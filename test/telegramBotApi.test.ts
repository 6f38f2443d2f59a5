/**
 * The local Telegram Bot API sandbox: wire format (JSON, form, query, multipart), Telegram's
 * validation and error bodies, long polling, and each fault switch; plus a real grammY bot
 * polling it end to end.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Api, Bot, GrammyError, InputFile } from 'grammy';
import {
  parseTelegramHtml,
  startTelegramBotApi,
  type TelegramBotApi,
} from '../src/sandbox/telegramBotApi.js';

let tg: TelegramBotApi;

beforeEach(async () => {
  tg = await startTelegramBotApi();
});

afterEach(async () => {
  await tg.close();
});

interface ApiAnswer {
  ok: boolean;
  result?: Record<string, unknown> & { message_id?: number };
  error_code?: number;
  description?: string;
  parameters?: Record<string, unknown>;
}

async function call(
  method: string,
  body: Record<string, unknown> = {},
  token = tg.token,
): Promise<{ status: number; json: ApiAnswer }> {
  const res = await fetch(`${tg.url}/bot${token}/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as ApiAnswer };
}

describe('wire format', () => {
  it('answers getMe, refuses a wrong token with 401 and an unknown method with 404', async () => {
    const me = await call('getMe');
    expect(me.status).toBe(200);
    expect(me.json.result).toMatchObject({ is_bot: true, username: 'sandbox_bot' });
    expect(await call('getMe', {}, '1:wrong')).toEqual({
      status: 401,
      json: { ok: false, error_code: 401, description: 'Unauthorized' },
    });
    expect(await call('sendSticker')).toEqual({
      status: 404,
      json: { ok: false, error_code: 404, description: 'Not Found' },
    });
    expect(tg.requests.map((r) => r.method)).toEqual(['getMe', 'getMe', 'sendSticker']);
  });

  it('accepts JSON, form-urlencoded and query-string parameters, with per-chat message ids', async () => {
    const a1 = await call('sendMessage', { chat_id: -100111, text: 'one' });
    const form = await fetch(`${tg.url}/bot${tg.token}/sendMessage`, {
      method: 'POST',
      body: new URLSearchParams({ chat_id: '-100111', text: 'two', reply_markup: '{"inline_keyboard":[]}' }),
    });
    const get = await fetch(`${tg.url}/bot${tg.token}/sendMessage?chat_id=42&text=three`);
    expect(a1.json.result?.message_id).toBe(1);
    expect(((await form.json()) as ApiAnswer).result?.message_id).toBe(2);
    expect(((await get.json()) as ApiAnswer).result).toMatchObject({
      message_id: 1,
      chat: { id: 42, type: 'private' },
      text: 'three',
    });
    expect(tg.sent).toEqual([
      { chatId: '-100111', messageId: 1, text: 'one', plainText: 'one' },
      {
        chatId: '-100111',
        messageId: 2,
        text: 'two',
        plainText: 'two',
        replyMarkup: { inline_keyboard: [] },
      },
      { chatId: '42', messageId: 1, text: 'three', plainText: 'three' },
    ]);
    expect(tg.requests[1]?.params.reply_markup).toEqual({ inline_keyboard: [] });
  });

  it('parses a multipart sendDocument from grammY with its file', async () => {
    const api = new Api(tg.token, { apiRoot: tg.url });
    const msg = await api.sendDocument(
      '-100222',
      new InputFile(Buffer.from('line 1\nстрока 2\n'), 'run-42.txt'),
      {
        caption: '<b>full error</b>',
        parse_mode: 'HTML',
        message_thread_id: 7,
      },
    );
    expect(msg).toMatchObject({
      message_id: 1,
      caption: 'full error',
      caption_entities: [{ type: 'bold', offset: 0, length: 10 }],
      message_thread_id: 7,
      document: { file_name: 'run-42.txt', file_size: Buffer.byteLength('line 1\nстрока 2\n') },
    });
    const request = tg.requests.at(-1);
    expect(request?.method).toBe('sendDocument');
    expect(request?.params).toMatchObject({ chat_id: '-100222', message_thread_id: '7' });
    expect(request?.files).toEqual([
      { field: 'document', filename: 'run-42.txt', content: 'line 1\nстрока 2\n' },
    ]);
    expect(tg.sent[0]).toMatchObject({
      chatId: '-100222',
      threadId: 7,
      document: { filename: 'run-42.txt', content: 'line 1\nстрока 2\n' },
    });
  });

  it('answers answerCallbackQuery, setMyCommands and deleteWebhook like Telegram', async () => {
    expect((await call('answerCallbackQuery', { callback_query_id: '9' })).json).toEqual({
      ok: true,
      result: true,
    });
    expect((await call('deleteWebhook')).json).toEqual({ ok: true, result: true });
    const good = await call('setMyCommands', {
      commands: [{ command: 'health', description: 'Health check' }],
    });
    expect(good.json).toEqual({ ok: true, result: true });
    const bad = await call('setMyCommands', { commands: [{ command: 'Bad-Name', description: 'x' }] });
    expect(bad).toMatchObject({ status: 400, json: { description: 'Bad Request: BOT_COMMAND_INVALID' } });
  });
});

describe('validation', () => {
  it('limits text to 4096 characters after entity parsing', async () => {
    const fits = `<b>${'x'.repeat(4096)}</b>`;
    expect((await call('sendMessage', { chat_id: 1, text: fits, parse_mode: 'HTML' })).status).toBe(200);
    expect(await call('sendMessage', { chat_id: 1, text: 'x'.repeat(4097) })).toEqual({
      status: 400,
      json: { ok: false, error_code: 400, description: 'Bad Request: message is too long' },
    });
    expect((await call('sendMessage', { chat_id: 1, text: '  \n ' })).json.description).toBe(
      'Bad Request: message text is empty',
    );
  });

  it.each([
    ['<script>alert(1)</script>', 'Unsupported start tag "script" at byte offset 0'],
    ['a < b', 'Unsupported start tag "" at byte offset 2'],
    ['Tom & Jerry', 'Unsupported character entity or unescaped "&" at byte offset 4'],
    ['<b>bold', `Can't find end tag corresponding to start tag "b"`],
    ['<b><i>x</b></i>', 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'],
    ['x</b>', 'Unexpected end tag at byte offset 1'],
    ['<span>x</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'],
    ['я<b', 'Unclosed start tag at byte offset 2'],
  ])('refuses bad HTML %j', async (text, detail) => {
    expect(await call('sendMessage', { chat_id: 1, text, parse_mode: 'HTML' })).toEqual({
      status: 400,
      json: { ok: false, error_code: 400, description: `Bad Request: can't parse entities: ${detail}` },
    });
    // The same text without parse_mode is plain text and goes through.
    expect((await call('sendMessage', { chat_id: 1, text })).status).toBe(200);
  });

  it('limits a document caption to 1024 characters', async () => {
    const api = new Api(tg.token, { apiRoot: tg.url });
    await expect(
      api.sendDocument('1', new InputFile(Buffer.from('x'), 'a.txt'), { caption: 'c'.repeat(1025) }),
    ).rejects.toMatchObject({ error_code: 400, description: 'Bad Request: message caption is too long' });
  });

  it('parses the whole HTML subset into entities with UTF-16 offsets', () => {
    const parsed = parseTelegramHtml(
      '😀<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>k</strike><del>d</del>' +
        '<a href="https://x.test/?a=1&amp;b=&quot;2&quot;">l</a><code>c</code><pre>p</pre>' +
        '<pre><code class="language-sql">SELECT 1</code></pre><blockquote>q</blockquote>' +
        '<blockquote expandable>x</blockquote><tg-spoiler>t</tg-spoiler><span class="tg-spoiler">h</span>' +
        ' &lt;&gt;&amp;&quot;&#65;&#x1F600;',
    );
    expect(parsed.text).toBe('😀bsieunskdlcpSELECT 1qxth <>&"A😀');
    expect(parsed.entities).toEqual([
      { type: 'bold', offset: 2, length: 1 },
      { type: 'bold', offset: 3, length: 1 },
      { type: 'italic', offset: 4, length: 1 },
      { type: 'italic', offset: 5, length: 1 },
      { type: 'underline', offset: 6, length: 1 },
      { type: 'underline', offset: 7, length: 1 },
      { type: 'strikethrough', offset: 8, length: 1 },
      { type: 'strikethrough', offset: 9, length: 1 },
      { type: 'strikethrough', offset: 10, length: 1 },
      { type: 'text_link', offset: 11, length: 1, url: 'https://x.test/?a=1&b="2"' },
      { type: 'code', offset: 12, length: 1 },
      { type: 'pre', offset: 13, length: 1 },
      { type: 'pre', offset: 14, length: 8, language: 'sql' },
      { type: 'blockquote', offset: 22, length: 1 },
      { type: 'expandable_blockquote', offset: 23, length: 1 },
      { type: 'spoiler', offset: 24, length: 1 },
      { type: 'spoiler', offset: 25, length: 1 },
    ]);
  });
});

describe('editMessageText', () => {
  it('edits a sent message in place, refusing unknown messages and identical content', async () => {
    await call('sendMessage', {
      chat_id: 5,
      text: 'old',
      reply_markup: { inline_keyboard: [[{ text: 'x', callback_data: 'x' }]] },
    });
    const edited = await call('editMessageText', {
      chat_id: 5,
      message_id: 1,
      text: '<i>new</i>',
      parse_mode: 'HTML',
    });
    expect(edited.json.result).toMatchObject({ message_id: 1, text: 'new', entities: [{ type: 'italic' }] });
    expect(tg.sent).toEqual([
      { chatId: '5', messageId: 1, text: '<i>new</i>', plainText: 'new', parseMode: 'HTML' },
    ]);
    expect(
      (await call('editMessageText', { chat_id: 5, message_id: 1, text: '<i>new</i>', parse_mode: 'HTML' }))
        .json.description,
    ).toMatch(/^Bad Request: message is not modified/);
    expect((await call('editMessageText', { chat_id: 5, message_id: 9, text: 'x' })).json.description).toBe(
      'Bad Request: message to edit not found',
    );
  });

  it('records each edit with its reply_markup; removing the buttons alone is a change, an empty keyboard is none', async () => {
    const keyboard = { inline_keyboard: [[{ text: 'Retry', callback_data: 'al:retry:1' }]] };
    await call('sendMessage', {
      chat_id: -1007,
      text: '<b>failed</b>',
      parse_mode: 'HTML',
      reply_markup: keyboard,
    });
    expect(tg.sent[0]?.replyMarkup).toEqual(keyboard);
    const removed = await call('editMessageText', {
      chat_id: -1007,
      message_id: 1,
      text: '<b>failed</b>',
      parse_mode: 'HTML',
      reply_markup: { inline_keyboard: [] },
    });
    expect(removed.status).toBe(200);
    expect(tg.edits).toEqual([
      {
        chatId: '-1007',
        messageId: 1,
        text: '<b>failed</b>',
        plainText: 'failed',
        parseMode: 'HTML',
        replyMarkup: { inline_keyboard: [] },
      },
    ]);
    expect(tg.sent[0]?.replyMarkup).toEqual({ inline_keyboard: [] });
    // No reply_markup shows the same as an empty keyboard: nothing changes.
    const same = await call('editMessageText', { chat_id: -1007, message_id: 1, text: 'failed' });
    expect(same).toMatchObject({
      status: 400,
      json: {
        ok: false,
        error_code: 400,
        description: expect.stringMatching(/^Bad Request: message is not modified: /) as unknown,
      },
    });
    expect(tg.edits).toHaveLength(1);
  });
});

describe('inline keyboards', () => {
  const button = (callback_data: unknown) => ({ inline_keyboard: [[{ text: 'Retry', callback_data }]] });

  it('accepts callback_data of 1 to 64 bytes of UTF-8 and refuses the rest with BUTTON_DATA_INVALID', async () => {
    const ok = ['a', 'x'.repeat(64), 'я'.repeat(32)];
    for (const data of ok) {
      expect((await call('sendMessage', { chat_id: 5, text: 't', reply_markup: button(data) })).status).toBe(
        200,
      );
    }
    const bad = ['', 'x'.repeat(65), 'я'.repeat(33), 42];
    for (const data of bad) {
      expect(await call('sendMessage', { chat_id: 5, text: 't', reply_markup: button(data) })).toEqual({
        status: 400,
        json: { ok: false, error_code: 400, description: 'Bad Request: BUTTON_DATA_INVALID' },
      });
    }
    expect(
      (
        await call('editMessageText', {
          chat_id: 5,
          message_id: 1,
          text: 'u',
          reply_markup: button('x'.repeat(65)),
        })
      ).json.description,
    ).toBe('Bad Request: BUTTON_DATA_INVALID');
    expect(tg.sent.map((m) => m.plainText)).toEqual(['t', 't', 't']);
    expect(tg.edits).toEqual([]);
  });

  it('refuses buttons without a label or an action, and markup that is not a keyboard', async () => {
    const answer = async (reply_markup: unknown, method = 'sendMessage') =>
      (await call(method, { chat_id: 5, text: 't', message_id: 1, reply_markup })).json.description;
    expect(await answer({ inline_keyboard: [[{ text: 'Retry' }]] })).toBe(
      'Bad Request: text buttons are unallowed in the inline keyboard',
    );
    expect(await answer({ inline_keyboard: [[{ text: ' ', callback_data: 'x' }]] })).toBe(
      'Bad Request: BUTTON_TEXT_INVALID',
    );
    expect(await answer({ inline_keyboard: [{ text: 'x', callback_data: 'x' }] })).toMatch(/Array of Arrays/);
    expect(await answer({ inline_keyboard: 'x' })).toMatch(/must be an Array$/);
    const form = await fetch(`${tg.url}/bot${tg.token}/sendMessage`, {
      method: 'POST',
      body: new URLSearchParams({ chat_id: '5', text: 't', reply_markup: '{not json' }),
    });
    expect(((await form.json()) as ApiAnswer).description).toBe(
      "Bad Request: can't parse reply keyboard markup JSON object",
    );
    await call('sendMessage', { chat_id: 5, text: 't', reply_markup: { remove_keyboard: true } });
    expect(await answer({ remove_keyboard: true }, 'editMessageText')).toBe(
      "Bad Request: can't parse inline keyboard markup JSON object",
    );
    expect(tg.sent).toHaveLength(1);
  });
});

describe('getUpdates', () => {
  it('returns queued updates and drops those confirmed by offset', async () => {
    tg.pushUpdate({ message: { text: 'a' } });
    tg.pushUpdate({ message: { text: 'b' } });
    const first = await call('getUpdates', { timeout: 0 });
    expect((first.json.result as unknown as Array<{ update_id: number }>).map((u) => u.update_id)).toEqual([
      1, 2,
    ]);
    const rest = await call('getUpdates', { offset: 2 });
    expect(rest.json.result).toEqual([{ update_id: 2, message: { text: 'b' } }]);
    expect((await call('getUpdates', { offset: 3 })).json.result).toEqual([]);
  });

  it('holds a long poll until an update arrives', async () => {
    const started = Date.now();
    const poll = call('getUpdates', { timeout: 10 });
    setTimeout(() => tg.pushUpdate({ update_id: 50, message: { text: 'late' } }), 100);
    const answer = await poll;
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(answer.json.result).toEqual([{ update_id: 50, message: { text: 'late' } }]);
  });

  it('answers an empty list after `timeout` seconds, and close() releases a held poll', async () => {
    const started = Date.now();
    expect((await call('getUpdates', { timeout: 1 })).json.result).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);

    const held = call('getUpdates', { timeout: 30 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closing = Date.now();
    await tg.close();
    expect((await held).json.result).toEqual([]);
    expect(Date.now() - closing).toBeLessThan(1_000);
    tg = await startTelegramBotApi(); // for afterEach
  });

  it('serves a real grammY bot with long polling', async () => {
    const bot = new Bot(tg.token, { client: { apiRoot: tg.url } });
    bot.command('ping', (ctx) => ctx.reply('<b>pong</b>', { parse_mode: 'HTML' }));
    let polling!: Promise<void>;
    await new Promise<void>((resolve, reject) => {
      polling = bot.start({ onStart: () => resolve() });
      polling.catch(reject);
    });
    tg.pushUpdate({
      message: {
        message_id: 1,
        date: 1,
        chat: { id: 42, type: 'private', first_name: 'U' },
        from: { id: 42, is_bot: false, first_name: 'U' },
        text: '/ping',
        entities: [{ type: 'bot_command', offset: 0, length: 5 }],
      },
    });
    await expect.poll(() => tg.sent.length, { timeout: 5_000 }).toBe(1);
    await bot.stop();
    await polling;
    expect(tg.sent[0]).toMatchObject({ chatId: '42', plainText: 'pong', parseMode: 'HTML' });
    expect(tg.requests.map((r) => r.method)).toEqual(
      expect.arrayContaining(['deleteWebhook', 'getMe', 'getUpdates', 'sendMessage']),
    );
  });
});

describe('faults', () => {
  it('answers 429 with retry_after for the next N calls, not counting getUpdates', async () => {
    tg.faults.status429Count = 2;
    tg.faults.retryAfterSeconds = 7;
    expect((await call('getUpdates')).status).toBe(200);
    expect(await call('sendMessage', { chat_id: 1, text: 'x' })).toEqual({
      status: 429,
      json: {
        ok: false,
        error_code: 429,
        description: 'Too Many Requests: retry after 7',
        parameters: { retry_after: 7 },
      },
    });
    expect((await call('getMe')).status).toBe(429);
    expect((await call('sendMessage', { chat_id: 1, text: 'x' })).status).toBe(200);
  });

  it('answers 500 for the next N calls', async () => {
    tg.faults.status5xxCount = 1;
    expect((await call('getMe')).json).toEqual({
      ok: false,
      error_code: 500,
      description: 'Internal Server Error',
    });
    expect((await call('getMe')).status).toBe(200);
  });

  it('refuses migrated, kicked, blocked and missing chats like Telegram', async () => {
    tg.faults.migratedChats = { '-123': '-100123' };
    tg.faults.kickedChats = ['-5'];
    tg.faults.blockedChats = ['77'];
    tg.faults.missingChats = ['-9'];
    expect((await call('sendMessage', { chat_id: -123, text: 'x' })).json).toEqual({
      ok: false,
      error_code: 400,
      description: 'Bad Request: group chat was upgraded to a supergroup chat',
      parameters: { migrate_to_chat_id: -100123 },
    });
    expect(await call('sendMessage', { chat_id: '-5', text: 'x' })).toEqual({
      status: 403,
      json: { ok: false, error_code: 403, description: 'Forbidden: bot was kicked from the group chat' },
    });
    expect((await call('sendMessage', { chat_id: 77, text: 'x' })).json.description).toBe(
      'Forbidden: bot was blocked by the user',
    );
    expect((await call('sendMessage', { chat_id: -9, text: 'x' })).json.description).toBe(
      'Bad Request: chat not found',
    );
    expect((await call('sendMessage', { chat_id: -100123, text: 'x' })).status).toBe(200);
    tg.faults.reset();
    expect((await call('sendMessage', { chat_id: -123, text: 'x' })).status).toBe(200);
  });

  it('drops connections while unreachable, and delays answers by delayMs', async () => {
    tg.faults.unreachable = true;
    await expect(call('getMe')).rejects.toThrow();
    const api = new Api(tg.token, { apiRoot: tg.url });
    await expect(api.getMe()).rejects.toThrow(/Network request for 'getMe' failed/);
    tg.faults.unreachable = false;
    tg.faults.delayMs = 300;
    const started = Date.now();
    expect((await call('getMe')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
  });

  it('gives grammY a GrammyError with parameters', async () => {
    tg.faults.migratedChats = { '-1': '-1001' };
    const api = new Api(tg.token, { apiRoot: tg.url });
    const error = await api.sendMessage('-1', 'x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GrammyError);
    expect((error as GrammyError).parameters).toEqual({ migrate_to_chat_id: -1001 });
  });
});
