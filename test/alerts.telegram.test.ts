/**
 * Alerts end to end: a run fails against the sandbox upstreams, the runner records it, and the
 * alert reaches the local Telegram Bot API server through the production notifier with its Retry
 * and History buttons; repeats are folded, the recovery edits the failure's message and is told,
 * and an alert that could not be delivered is delivered exactly once by the next invocation.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAlertCallback } from '../src/alerts/alertButtons.js';
import { createAlerter } from '../src/alerts/alerter.js';
import { createNotifier } from '../src/app/notifier.js';
import { openApp, type App } from '../src/app/openApp.js';
import type { Db } from '../src/clickhouse/db.js';
import type { RunRecord } from '../src/runner/runRecord.js';
import { loadConfig } from '../src/config/loadConfig.js';
import { startTelegramBotApi, type TelegramBotApi } from '../src/sandbox/telegramBotApi.js';
import { addDays, businessDate } from '../src/time/dates.js';
import { startSandboxApp, type SandboxApp } from './helpers/app.js';
import { silentLogger, tempDir } from './helpers/env.js';

let s: SandboxApp;
let bot: TelegramBotApi;
let app: App;
const CHAT = '-1001234567890';
const yesterday = addDays(businessDate(new Date(), 'Europe/Moscow'), -1);
const window = { from: addDays(yesterday, -2), to: yesterday };

beforeAll(async () => {
  bot = await startTelegramBotApi();
  // Eleven quick failing runs would otherwise hit the sandbox's per-second VK rate limit.
  s = await startSandboxApp(tempDir(), { vk: { rateLimits: { rps: 10_000 } } });
  // The same environment plus Telegram: alerts go through the real notifier.
  const config = loadConfig({ ...s.env, TG_BOT_TOKEN: bot.token, TG_CHAT_ID: CHAT, TG_API_ROOT: bot.url });
  app = await openApp({ config, logger: silentLogger, owner: 'test', schema: 'apply' });
});
afterAll(async () => {
  await app.close();
  await s.close();
  await bot.close();
});

const failedRun: RunRecord = {
  job: 'build_dm_vk',
  runId: '',
  startedAt: 1_795_000_000,
  finishedAt: 1_795_000_005,
  status: 'error',
  rowsWritten: 0,
  rowsRead: 0,
  errMsg: 'ClickHouse error 241: memory limit exceeded',
  fromDate: '2026-11-27',
  toDate: '2026-11-29',
  host: 'test',
  versionTag: 'test',
  trigger: 'schedule',
  actor: '',
  parentRunId: null,
  durationMs: 5_000,
  pid: 1,
};

const messages = () => bot.requests.filter((r) => r.method === 'sendMessage');

async function alertRows(job: string) {
  return app.db.query<{
    code: string;
    occurrences: number;
    delivery_state: string;
    chat_id: string;
    has_message: number;
  }>(
    `SELECT code, occurrences, delivery_state, chat_id, message_id IS NOT NULL AS has_message
     FROM meta.etl_alerts FINAL WHERE job = {job:String} ORDER BY ts, code`,
    { job },
  );
}

describe('alerts through the local Bot API server', () => {
  it('delivers RUN_FAILED at the end of the run, folds ten repeats, then tells RECOVERED', async () => {
    s.vk.faults.failAll = {
      status: 503,
      body: { error: { code: 'ERR_INTERNAL', message: '<b>Internal</b> & error' } },
    };
    try {
      const record = await app.runner.run({ job: 'vk_fetch', window, trigger: 'schedule' });
      const returnedMs = Date.now();
      expect(record.status).toBe('error');
      expect(returnedMs - ((record.startedAtMs ?? 0) + record.durationMs)).toBeLessThan(1_000);
      expect(messages()).toHaveLength(1);
      const sent = bot.sent.at(-1);
      expect(sent?.chatId).toBe(CHAT);
      expect(sent?.parseMode).toBe('HTML');
      expect(sent?.plainText).toMatch(/Сбой запуска[\s\S]*vk_fetch[\s\S]*Данные за \(МСК\)[\s\S]*run_id/);
      expect(sent?.plainText).toContain(record.runId);
      expect(sent?.text).not.toContain(s.config.vkAds.clientSecret ?? '');
      const [alert] = await app.db.query<{ alert_id: string }>(
        `SELECT toString(alert_id) AS alert_id FROM meta.etl_alerts FINAL WHERE job = 'vk_fetch'`,
      );
      expect(sent?.replyMarkup).toEqual({
        inline_keyboard: [
          [
            { text: 'Повторить', callback_data: `al:retry:${alert?.alert_id}` },
            { text: 'История', callback_data: 'al:hist:vk_fetch' },
          ],
        ],
      });
      for (const button of (sent?.replyMarkup as { inline_keyboard: Array<Array<{ callback_data: string }>> })
        .inline_keyboard[0] ?? []) {
        expect(Buffer.byteLength(button.callback_data)).toBeLessThanOrEqual(64);
        expect(parseAlertCallback(button.callback_data)).toBeDefined();
      }
      for (let i = 0; i < 10; i++) {
        expect((await app.runner.run({ job: 'vk_fetch', window, trigger: 'schedule' })).status).toBe('error');
      }
      expect(messages()).toHaveLength(1);
    } finally {
      s.vk.faults.reset();
    }
    expect(await alertRows('vk_fetch')).toEqual([
      { code: 'RUN_FAILED', occurrences: 11, delivery_state: 'delivered', chat_id: CHAT, has_message: 1 },
    ]);
    const recovered = await app.runner.run({ job: 'vk_fetch', window, trigger: 'schedule' });
    expect({ status: recovered.status, err: recovered.errMsg }).toEqual({ status: 'ok', err: '' });
    expect(messages()).toHaveLength(2);
    expect(bot.sent.at(-1)?.plainText).toMatch(/Восстановлено[\s\S]*vk_fetch/);
    expect(bot.sent.at(-1)?.replyMarkup).toBeUndefined();
    // The failure's own message now says it was resolved, by which run, and has no buttons.
    expect(bot.edits).toEqual([
      expect.objectContaining({
        chatId: CHAT,
        messageId: 1,
        parseMode: 'HTML',
        replyMarkup: { inline_keyboard: [] },
      }),
    ]);
    const failure = bot.sent.find((m) => m.messageId === 1);
    expect(failure?.plainText).toMatch(
      new RegExp(
        `^🔴 Сбой запуска[\\s\\S]*vk_fetch[\\s\\S]*\\n\\n✅ Решено: запуск ${recovered.runId.slice(0, 8)} \\(schedule\\) через \\d+ с$`,
      ),
    );
    expect(failure?.replyMarkup).toEqual({ inline_keyboard: [] });
  });

  it('a failure message deleted from the chat: the edit is refused and logged, RECOVERED still goes out', async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: 'warn' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString('utf8'));
          done();
        },
      }),
    );
    const alerter = createAlerter({
      db: app.db,
      notifier: createNotifier(app.config, logger, () => undefined),
      config: app.config,
      logger,
    });
    const job = 'job_deleted';
    const [failed] = await alerter.onRun({
      ...failedRun,
      job,
      runId: '22222222-2222-4333-8444-555555555555',
    });
    expect(failed).toMatchObject({ deliveryState: 'delivered', chatId: CHAT });
    // Someone deleted the alert in the chat.
    bot.sent.splice(
      bot.sent.findIndex((m) => m.messageId === failed?.messageId),
      1,
    );
    const before = messages().length;
    await alerter.onRun({
      ...failedRun,
      job,
      runId: '33333333-2222-4333-8444-555555555555',
      status: 'ok',
      errMsg: '',
      rowsWritten: 10,
    });
    expect(bot.requests.at(-2)).toMatchObject({
      method: 'editMessageText',
      params: { message_id: failed?.messageId },
    });
    expect(messages().length).toBe(before + 1);
    expect(bot.sent.at(-1)?.plainText).toMatch(/Восстановлено[\s\S]*job_deleted/);
    expect(
      lines.some(
        (l) => l.includes('could not mark the resolved alert') && l.includes('message to edit not found'),
      ),
    ).toBe(true);
    expect((await alertRows(job)).map((r) => `${r.code} ${r.delivery_state}`).sort()).toEqual([
      'RECOVERED delivered',
      'RUN_FAILED delivered',
    ]);
    const [resolved] = await app.db.query<{ resolved_by: string }>(
      `SELECT toString(resolved_by_run_id) AS resolved_by FROM meta.etl_alerts FINAL WHERE job = {job:String} AND code = 'RUN_FAILED'`,
      { job },
    );
    expect(resolved?.resolved_by).toBe('33333333-2222-4333-8444-555555555555');
  });

  it('with ClickHouse unreachable the alert is still delivered, and its row is written later', async () => {
    const down = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:8443'));
    const db: Db = { ...app.db, control: { query: down, command: down, insert: down } };
    const notifier = createNotifier(app.config, silentLogger, () => undefined);
    const alerter = createAlerter({ db, notifier, config: app.config, logger: silentLogger });
    const before = messages().length;
    await alerter.onRun({ ...failedRun, runId: '11111111-2222-4333-8444-555555555555' });
    expect(messages().length).toBe(before + 1);
    expect(bot.sent.at(-1)?.plainText).toMatch(/build_dm_vk/);
    expect(await alertRows('build_dm_vk')).toEqual([]);
    await (
      await openApp({ config: app.config, logger: silentLogger, owner: 'test', schema: 'apply' })
    ).close();
    expect(messages().length).toBe(before + 1);
    expect(await alertRows('build_dm_vk')).toMatchObject([
      { code: 'RUN_FAILED', delivery_state: 'delivered', chat_id: CHAT },
    ]);
  });

  it('an alert raised while the Bot API is unreachable is delivered exactly once by the next invocation', async () => {
    bot.faults.unreachable = true;
    s.qt.faults.outage = true;
    try {
      expect((await app.runner.run({ job: 'qtickets_fetch', window, trigger: 'schedule' })).status).toBe(
        'error',
      );
    } finally {
      s.qt.faults.outage = false;
      bot.faults.unreachable = false;
    }
    const before = messages().length;
    expect(await alertRows('qtickets_fetch')).toMatchObject([
      { code: 'RUN_FAILED', delivery_state: 'pending' },
    ]);
    // The next invocation (a new app on the same data) finishes the outbox at start.
    const next = await openApp({ config: app.config, logger: silentLogger, owner: 'test', schema: 'apply' });
    const third = await openApp({ config: app.config, logger: silentLogger, owner: 'test', schema: 'apply' });
    await Promise.all([next.close(), third.close()]);
    expect(messages().length).toBe(before + 1);
    expect(bot.sent.at(-1)?.plainText).toMatch(/qtickets_fetch/);
    expect(await alertRows('qtickets_fetch')).toMatchObject([
      { code: 'RUN_FAILED', delivery_state: 'delivered' },
    ]);
  });
});
