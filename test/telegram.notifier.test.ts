/**
 * The Telegram notifier against the local Bot API sandbox over HTTP (real grammY client, no
 * mocks): splitting, escaping, 429 retry_after, group → supergroup migration remembered across
 * instances, the error mapping of the notifier port, attachments, and that the bot token never
 * shows in an error or a log line.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Api, HttpError } from 'grammy';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotifierRejectedError, NotifierUnavailableError, type Notifier } from '../src/notify/notifier.js';
import {
  createTelegramNotifier,
  escapeHtml,
  htmlToPlainText,
  TELEGRAM_CHAT_STATE_FILE,
  type TelegramNotifierOptions,
} from '../src/notify/telegram/index.js';
import { startTelegramBotApi, type TelegramBotApi } from '../src/sandbox/telegramBotApi.js';
import { tempDir } from './helpers/env.js';

const CHAT = '-100500';

let tg: TelegramBotApi;
let stateDir: string;
let logLines: string[];

function capturingLogger() {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString('utf8'));
      done();
    },
  });
  return pino({ level: 'debug' }, stream);
}

function notifier(overrides: Partial<TelegramNotifierOptions> = {}): Notifier {
  return createTelegramNotifier({
    token: tg.token,
    chatId: CHAT,
    apiRoot: tg.url,
    stateDir,
    logger: capturingLogger(),
    requestTimeoutMs: 2_000,
    ...overrides,
  });
}

/** Everything an operator could see about a failure: message, reason, causes, JSON and String forms. */
function visibleText(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    parts.push(String(current), current.message, current.stack ?? '', JSON.stringify(current));
    if (current instanceof NotifierRejectedError) parts.push(current.reason);
    current = current.cause;
  }
  return parts.join('\n');
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const result = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(result instanceof Error)) throw new Error('expected the send to fail');
  return result;
}

const sendRequests = () =>
  tg.requests.filter((r) => r.method === 'sendMessage' || r.method === 'sendDocument');

beforeEach(async () => {
  tg = await startTelegramBotApi();
  stateDir = path.join(tempDir('zakaz-etl-tg-'), 'state');
  logLines = [];
});

afterEach(async () => {
  await tg.close();
  // Whatever happened in the test, the token never reached a log line.
  expect(logLines.join('')).not.toContain(tg.token);
  expect(logLines.join('')).not.toContain(tg.token.split(':')[1]);
});

describe('delivery', () => {
  it('sends a 10,000-character alert in valid HTML parts of at most 4096 characters, in order', async () => {
    const rows = Array.from(
      { length: 230 },
      (_, k) => `<b>run ${k}</b> <code>${escapeHtml(`vk_fetch#${k} rows<${k * 7}> & more`)}</code> ok`,
    );
    const html = `<b>Daily report</b>\n${rows.join('\n')}`;
    expect(html.length).toBeGreaterThan(10_000);

    const delivery = await notifier().send({ html });

    const requests = sendRequests();
    expect(requests.length).toBeGreaterThanOrEqual(3);
    expect(tg.sent).toHaveLength(requests.length); // the server accepted every part
    expect(delivery).toEqual({ chatId: CHAT, messageIds: tg.sent.map((m) => m.messageId) });
    expect(delivery.messageIds).toEqual(requests.map((_, k) => k + 1));
    for (const request of requests) {
      expect(request.params).toMatchObject({
        chat_id: CHAT,
        parse_mode: 'HTML',
        link_preview_options: { is_disabled: true },
      });
      expect(request.params).not.toHaveProperty('message_thread_id');
      expect(String(request.params.text).length).toBeLessThanOrEqual(4096);
    }
    expect(tg.sent.map((m) => m.plainText).join('')).toBe(htmlToPlainText(html));
  });

  it('delivers values with <script> and & escaped, shown as written', async () => {
    const value = `<script>alert("x")</script> & co`;
    await notifier().send({ html: `<b>Error:</b> ${escapeHtml(value)}` });
    expect(tg.requests[0]?.params.text).toBe(
      '<b>Error:</b> &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co',
    );
    expect(tg.sent[0]?.plainText).toBe(`Error: ${value}`);
  });

  it('posts into the forum topic when topicId is set, the document too', async () => {
    await notifier({ topicId: 77 }).send({
      html: 'in a topic',
      attachment: { filename: 'a.txt', text: 'x' },
    });
    expect(sendRequests().map((r) => r.params.message_thread_id)).toEqual([77, '77']);
    expect(tg.sent.map((m) => m.threadId)).toEqual([77, 77]);
  });

  it('sends a long attachment as a .txt document after the text, replying to it', async () => {
    const text = Array.from({ length: 2_000 }, (_, k) => `stack line ${k}: ошибка <${k}> & done`).join('\n');
    const delivery = await notifier().send({
      html: '<b>vk_fetch failed</b>',
      attachment: { filename: 'vk_fetch-run-42.txt', text },
    });
    expect(delivery.messageIds).toEqual([1, 2]);
    const request = sendRequests()[1];
    expect(request?.method).toBe('sendDocument');
    expect(request?.files).toEqual([{ field: 'document', filename: 'vk_fetch-run-42.txt', content: text }]);
    expect(request?.params.reply_parameters).toEqual({ message_id: 1, allow_sending_without_reply: true });
    expect(tg.sent[1]?.document).toEqual({ filename: 'vk_fetch-run-42.txt', content: text });
  });

  it('makes an odd attachment file name safe and ends it in .txt', async () => {
    await notifier().send({ html: 'x', attachment: { filename: '../run "42" ошибка.log', text: 'y' } });
    expect(tg.sent[1]?.document?.filename).toBe('run__42________.log.txt');
  });

  it('resends a part Telegram cannot parse once as plain text, and logs an error', async () => {
    const delivery = await notifier().send({ html: '<b>Run failed</b>: a < b & c' });
    expect(delivery.messageIds).toEqual([1]);
    expect(sendRequests().map((r) => [r.params.text, r.params.parse_mode])).toEqual([
      ['<b>Run failed</b>: a < b & c', 'HTML'],
      ['Run failed: a < b & c', undefined],
    ]);
    expect(tg.sent).toEqual([expect.objectContaining({ plainText: 'Run failed: a < b & c' })]);
    expect(logLines.some((l) => l.includes('"level":50') && l.includes("can't parse entities"))).toBe(true);
  });

  it('refuses an empty message without calling Telegram', async () => {
    const error = await failure(notifier().send({ html: ' \n <b></b>' }));
    expect(error).toBeInstanceOf(NotifierRejectedError);
    expect(tg.requests).toHaveLength(0);
  });
});

/** The notifier's optional `edit`, which the Telegram implementation has. */
function editOf(n: Notifier): NonNullable<Notifier['edit']> {
  if (!n.edit) throw new Error('the Telegram notifier has edit()');
  return n.edit.bind(n);
}

const retryAndHistory = [
  [
    { text: 'Повторить', callbackData: 'al:retry:0f8fad5b-d9cb-469f-a165-70867728950e' },
    { text: 'История', callbackData: 'al:hist:vk_fetch' },
  ],
];
const wireKeyboard = {
  inline_keyboard: [
    [
      { text: 'Повторить', callback_data: 'al:retry:0f8fad5b-d9cb-469f-a165-70867728950e' },
      { text: 'История', callback_data: 'al:hist:vk_fetch' },
    ],
  ],
};

describe('inline buttons', () => {
  it('puts the buttons on the last part of a split message only', async () => {
    const html = Array.from({ length: 3 }, (_, k) => `${k}`.repeat(4000)).join('\n');
    const delivery = await notifier().send({ html, buttons: retryAndHistory });
    expect(delivery.messageIds).toEqual([1, 2, 3]);
    expect(sendRequests().map((r) => r.params.reply_markup)).toEqual([undefined, undefined, wireKeyboard]);
    expect(tg.sent.map((m) => m.replyMarkup)).toEqual([undefined, undefined, wireKeyboard]);
  });

  it('keeps the buttons on the text when an attachment follows, and on the plain-text resend', async () => {
    await notifier().send({
      html: '<b>failed</b> a < b',
      attachment: { filename: 'e.txt', text: 'full error' },
      buttons: retryAndHistory,
    });
    expect(sendRequests().map((r) => [r.method, r.params.parse_mode, r.params.reply_markup])).toEqual([
      ['sendMessage', 'HTML', wireKeyboard],
      ['sendMessage', undefined, wireKeyboard],
      ['sendDocument', undefined, undefined],
    ]);
  });

  it('refuses callback data over 64 bytes of UTF-8 (or empty) with a RangeError, before calling Telegram', async () => {
    const tooLong = [[{ text: 'История', callbackData: `al:hist:${'я'.repeat(29)}` }]]; // 8 + 58 bytes
    await expect(notifier().send({ html: 'x', buttons: tooLong })).rejects.toThrow(
      /callback data of 66 bytes .*1–64 bytes/,
    );
    await expect(
      notifier().send({ html: 'x', buttons: [[{ text: 'x', callbackData: '' }]] }),
    ).rejects.toThrow(RangeError);
    await expect(
      editOf(notifier())({ chatId: CHAT, messageId: 1 }, { html: 'x', buttons: tooLong }),
    ).rejects.toThrow(RangeError);
    expect(tg.requests).toHaveLength(0);
  });
});

describe('edit', () => {
  it('replaces the text and removes the buttons; the same content again is not an error', async () => {
    const n = notifier();
    const delivery = await n.send({ html: '<b>Run failed</b>', buttons: retryAndHistory });
    const target = { chatId: delivery.chatId, messageId: delivery.messageIds[0] ?? 0 };
    await editOf(n)(target, { html: '<b>Run failed</b>\n✅ Resolved' });
    expect(tg.requests.at(-1)).toMatchObject({
      method: 'editMessageText',
      params: {
        chat_id: CHAT,
        message_id: 1,
        parse_mode: 'HTML',
        link_preview_options: { is_disabled: true },
        reply_markup: { inline_keyboard: [] },
      },
    });
    expect(tg.sent).toEqual([
      expect.objectContaining({ plainText: 'Run failed\n✅ Resolved', replyMarkup: { inline_keyboard: [] } }),
    ]);
    await editOf(n)(target, { html: '<b>Run failed</b>\n✅ Resolved' });
    expect(tg.requests.filter((r) => r.method === 'editMessageText')).toHaveLength(2);
    expect(tg.edits).toHaveLength(1);
  });

  it('can set buttons, and edits a message that cannot be parsed as plain text', async () => {
    const n = notifier();
    await n.send({ html: 'first' });
    await editOf(n)({ chatId: CHAT, messageId: 1 }, { html: 'a < b', buttons: retryAndHistory });
    expect(tg.sent[0]).toMatchObject({ plainText: 'a < b', replyMarkup: wireKeyboard });
    expect(tg.edits.map((e) => e.parseMode)).toEqual([undefined]);
    expect(logLines.some((l) => l.includes('"level":50') && l.includes('editing it as plain text'))).toBe(
      true,
    );
  });

  it('a deleted message → NotifierRejectedError that says there is nothing to edit', async () => {
    const error = await failure(editOf(notifier())({ chatId: CHAT, messageId: 99 }, { html: 'x' }));
    expect(error).toBeInstanceOf(NotifierRejectedError);
    expect((error as NotifierRejectedError).reason).toBe('Bad Request: message to edit not found');
    expect(error.message).toMatch(/refused the edit of message 99 for chat -100500.*nothing to edit/);
  });

  it('unreachable → NotifierUnavailableError; bot kicked → NotifierRejectedError', async () => {
    const n = notifier();
    await n.send({ html: 'x' });
    tg.faults.unreachable = true;
    const down = await failure(editOf(n)({ chatId: CHAT, messageId: 1 }, { html: 'y' }));
    expect(down).toBeInstanceOf(NotifierUnavailableError);
    expect(visibleText(down)).not.toContain(tg.token);
    tg.faults.reset();
    tg.faults.kickedChats = [CHAT];
    expect(await failure(editOf(n)({ chatId: CHAT, messageId: 1 }, { html: 'y' }))).toBeInstanceOf(
      NotifierRejectedError,
    );
  });

  it('edits a message of the configured chat in the supergroup it migrated to, remembered or answered', async () => {
    tg.faults.migratedChats = { '-123': '-100123' };
    const delivery = await notifier({ chatId: '-123' }).send({ html: 'one', buttons: retryAndHistory });
    expect(delivery).toEqual({ chatId: '-100123', messageIds: [1] });
    // A stored alert may still name the old chat; a new instance goes to the remembered one.
    tg.requests.length = 0;
    await editOf(notifier({ chatId: '-123' }))({ chatId: '-123', messageId: 1 }, { html: 'one, resolved' });
    expect(tg.requests.map((r) => r.params.chat_id)).toEqual(['-100123']);
    expect(tg.sent[0]?.plainText).toBe('one, resolved');
    // A migration Telegram tells only in its answer to the edit is followed, and remembered.
    await tg.close();
    tg = await startTelegramBotApi();
    await notifier({ chatId: '-7' }).send({ html: 'two' });
    tg.faults.migratedChats = { '-7': '-1007' };
    await new Api(tg.token, { apiRoot: tg.url }).sendMessage('-1007', 'moved');
    await editOf(notifier({ chatId: '-7' }))({ chatId: '-7', messageId: 1 }, { html: 'moved, resolved' });
    expect(tg.requests.filter((r) => r.method === 'editMessageText').map((r) => r.params.chat_id)).toEqual([
      '-7',
      '-1007',
    ]);
    expect(tg.sent.find((m) => m.chatId === '-1007')?.plainText).toBe('moved, resolved');
    const state = JSON.parse(readFileSync(path.join(stateDir, TELEGRAM_CHAT_STATE_FILE), 'utf8')) as unknown;
    expect(state).toMatchObject({ configuredChatId: '-7', chatId: '-1007' });
  });
});

describe('rate limits', () => {
  it('honours a 429 retry_after of 1 s and delivers the message once', async () => {
    tg.faults.status429Count = 1;
    tg.faults.retryAfterSeconds = 1;
    const started = Date.now();
    const delivery = await notifier().send({ html: 'after the wait' });
    const elapsedMs = Date.now() - started;
    expect(elapsedMs).toBeGreaterThanOrEqual(950);
    expect(elapsedMs).toBeLessThan(5_000);
    expect(sendRequests()).toHaveLength(2);
    expect(tg.sent).toHaveLength(1);
    expect(delivery.messageIds).toEqual([1]);
    expect(
      logLines.some((l) => l.includes('Telegram rate limit hit') && l.includes('"retryAfterSeconds":1')),
    ).toBe(true);
  });

  it('gives up at once with NotifierUnavailableError when retry_after exceeds maxRetryDelaySeconds', async () => {
    tg.faults.status429Count = 1;
    tg.faults.retryAfterSeconds = 30;
    const started = Date.now();
    const error = await failure(notifier({ maxRetryDelaySeconds: 1 }).send({ html: 'x' }));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(error).toBeInstanceOf(NotifierUnavailableError);
    expect(error.message).toMatch(/rate-limiting the bot \(retry_after 30 s\)/);
    expect(sendRequests()).toHaveLength(1);
  });

  it('stops waiting when the signal aborts', async () => {
    tg.faults.status429Count = 1;
    tg.faults.retryAfterSeconds = 20;
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const error = await failure(notifier().send({ html: 'x' }, controller.signal));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error).toBeInstanceOf(NotifierUnavailableError);
    expect(error.message).toMatch(/aborted/);
  });

  it('does not call Telegram with an already aborted signal', async () => {
    const error = await failure(notifier().send({ html: 'x' }, AbortSignal.abort()));
    expect(error).toBeInstanceOf(NotifierUnavailableError);
    expect(tg.requests).toHaveLength(0);
  });
});

describe('chat migration', () => {
  it('follows migrate_to_chat_id, remembers it, and a new instance starts with it', async () => {
    tg.faults.migratedChats = { '-123': '-100123' };
    const first = await notifier({ chatId: '-123' }).send({ html: 'one' });
    expect(first).toEqual({ chatId: '-100123', messageIds: [1] });
    expect(sendRequests().map((r) => r.params.chat_id)).toEqual(['-123', '-100123']);
    const state = JSON.parse(readFileSync(path.join(stateDir, TELEGRAM_CHAT_STATE_FILE), 'utf8')) as unknown;
    expect(state).toMatchObject({ configuredChatId: '-123', chatId: '-100123' });
    expect(logLines.some((l) => l.includes('was upgraded to supergroup -100123'))).toBe(true);

    tg.requests.length = 0;
    const second = await notifier({ chatId: '-123' }).send({
      html: 'two',
      attachment: { filename: 'a.txt', text: 'doc' },
    });
    expect(second).toEqual({ chatId: '-100123', messageIds: [2, 3] });
    expect(sendRequests().map((r) => r.params.chat_id)).toEqual(['-100123', '-100123']);
  });

  it('follows a migration of the document too', async () => {
    const n = notifier({ chatId: '-7' });
    await n.send({ html: 'before' });
    tg.faults.migratedChats = { '-7': '-1007' };
    const delivery = await n.send({ html: 'after', attachment: { filename: 'a.txt', text: 'doc' } });
    expect(delivery).toEqual({ chatId: '-1007', messageIds: [1, 2] });
  });

  it('ignores a remembered migration of another configured chat', async () => {
    tg.faults.migratedChats = { '-123': '-100123' };
    await notifier({ chatId: '-123' }).send({ html: 'one' });
    tg.requests.length = 0;
    const delivery = await notifier({ chatId: '-456' }).send({ html: 'two' });
    expect(delivery.chatId).toBe('-456');
    expect(sendRequests().map((r) => r.params.chat_id)).toEqual(['-456']);
  });
});

describe('failures', () => {
  it('bot kicked → NotifierRejectedError with Telegram reason and what to do', async () => {
    tg.faults.kickedChats = [CHAT];
    const error = await failure(notifier().send({ html: 'x' }));
    expect(error).toBeInstanceOf(NotifierRejectedError);
    expect((error as NotifierRejectedError).reason).toBe('Forbidden: bot was kicked from the group chat');
    expect(error.message).toContain('add the bot to the chat again, or fix TG_CHAT_ID');
    expect(error.message).toContain(CHAT);
  });

  it('bot blocked, chat not found → NotifierRejectedError', async () => {
    tg.faults.blockedChats = [CHAT];
    const blocked = await failure(notifier().send({ html: 'x' }));
    expect(blocked).toBeInstanceOf(NotifierRejectedError);
    expect((blocked as NotifierRejectedError).reason).toBe('Forbidden: bot was blocked by the user');

    tg.faults.reset();
    tg.faults.missingChats = [CHAT];
    const missing = await failure(notifier().send({ html: 'x' }));
    expect(missing).toBeInstanceOf(NotifierRejectedError);
    expect((missing as NotifierRejectedError).reason).toBe('Bad Request: chat not found');
    expect(missing.message).toContain('fix TG_CHAT_ID');
  });

  it('wrong token → NotifierRejectedError naming TG_BOT_TOKEN, without the token', async () => {
    const wrongToken = '123456:WRONGwrongWRONGwrongWRONGwrong12345';
    const error = await failure(notifier({ token: wrongToken }).send({ html: 'x' }));
    expect(error).toBeInstanceOf(NotifierRejectedError);
    expect((error as NotifierRejectedError).reason).toBe('Unauthorized');
    expect(error.message).toContain('TG_BOT_TOKEN');
    expect(visibleText(error)).not.toContain(wrongToken);
    expect(logLines.join('')).not.toContain(wrongToken);
  });

  it('server unreachable (connections dropped) → NotifierUnavailableError, token scrubbed', async () => {
    // The raw network error of grammY's client carries the URL with the token: the notifier must scrub it.
    tg.faults.unreachable = true;
    const raw = await new Api(tg.token, { apiRoot: tg.url }).getMe().catch((e: unknown) => e);
    expect(raw).toBeInstanceOf(HttpError);
    expect(String((raw as HttpError).error)).toContain(tg.token);

    const error = await failure(notifier().send({ html: 'x' }));
    expect(error).toBeInstanceOf(NotifierUnavailableError);
    expect(error.message).toMatch(/could not be reached/);
    expect(visibleText(error)).not.toContain(tg.token);
    expect(visibleText(error)).toContain('/bot***/sendMessage');
  });

  it('nothing listening → NotifierUnavailableError', async () => {
    const apiRoot = tg.url;
    await tg.close();
    const error = await failure(notifier({ apiRoot }).send({ html: 'x' }));
    expect(error).toBeInstanceOf(NotifierUnavailableError);
    expect(visibleText(error)).toMatch(/ECONNREFUSED/);
    expect(visibleText(error)).not.toContain(tg.token);
    tg = await startTelegramBotApi(); // for afterEach
  });

  it('5xx → NotifierUnavailableError without backing off', async () => {
    tg.faults.status5xxCount = 1;
    const started = Date.now();
    const error = await failure(notifier().send({ html: 'x' }));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(error).toBeInstanceOf(NotifierUnavailableError);
    expect(error.message).toContain('Telegram answered 500');
  });

  it('a slow server past requestTimeoutMs → NotifierUnavailableError', async () => {
    tg.faults.delayMs = 1_000;
    const started = Date.now();
    const error = await failure(notifier({ requestTimeoutMs: 150 }).send({ html: 'x' }));
    expect(Date.now() - started).toBeLessThan(900);
    expect(error).toBeInstanceOf(NotifierUnavailableError);
  });

  it('a failure after the first part leaves the sent parts sent', async () => {
    const html = Array.from({ length: 3 }, (_, k) => `${k}`.repeat(4000)).join('\n');
    // Each answer takes 300 ms, so the bot can be kicked between the first and the second part.
    tg.faults.delayMs = 300;
    const sending = notifier().send({ html });
    await expect.poll(() => tg.sent.length, { interval: 20 }).toBe(1);
    tg.faults.kickedChats = [CHAT];
    const error = await failure(sending);
    expect(error).toBeInstanceOf(NotifierRejectedError);
    expect(tg.sent).toHaveLength(1);
    expect(sendRequests()).toHaveLength(2);
  });
});
