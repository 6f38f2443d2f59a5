/**
 * Alert rules, dedup, reminders, recovery and the outbox, on a real embedded ClickHouse
 * (`meta.etl_alerts`), with the run registry's real records.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlerter } from '../src/alerts/alerter.js';
import { errorSignature, type AlertCandidate } from '../src/alerts/alert.js';
import { judgeAgainstBaseline } from '../src/alerts/anomaly.js';
import { formatElapsed, renderAlert, renderResolvedAlert } from '../src/alerts/texts.js';
import {
  historyCallbackData,
  parseAlertCallback,
  retryCallbackData,
  runFailedButtons,
} from '../src/alerts/alertButtons.js';
import { openApp, type App } from '../src/app/openApp.js';
import type { Db, DbClient } from '../src/clickhouse/db.js';
import type { RunRecord } from '../src/runner/runRecord.js';
import { readOutbox } from '../src/alerts/outbox.js';
import { escapeHtml, htmlToPlainText } from '../src/notify/html.js';
import type { Notifier } from '../src/notify/notifier.js';
import { createRecordingNotifier } from './helpers/recordingNotifier.js';
import { silentLogger, tempDir, testConfig } from './helpers/env.js';

const config = testConfig(tempDir());
let app: App;
beforeAll(async () => {
  app = await openApp({
    config,
    logger: silentLogger,
    owner: 'test',
    schema: 'apply',
    notifier: createRecordingNotifier(),
  });
});
afterAll(async () => {
  await app.close();
});

let seq = 0;
function run(job: string, status: 'ok' | 'error', errMsg = '', rowsWritten = 10): RunRecord {
  seq++;
  return {
    job,
    runId: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    startedAt: 1_795_000_000 + seq,
    finishedAt: 1_795_000_010 + seq,
    status,
    rowsWritten,
    rowsRead: rowsWritten,
    errMsg,
    fromDate: '2026-11-27',
    toDate: '2026-11-29',
    host: 'test',
    versionTag: 'test',
    trigger: 'schedule',
    actor: '',
    parentRunId: null,
    durationMs: 10_000,
    pid: 1,
  };
}

async function alertsOf(db: DbClient, job: string) {
  return db.query<{ code: string; occurrences: number; delivery_state: string; resolved: number }>(
    `SELECT code, occurrences, delivery_state, resolved_at IS NOT NULL AS resolved
     FROM meta.etl_alerts FINAL WHERE job = {job:String} ORDER BY ts, code`,
    { job },
  );
}

describe('alert rules and messages', () => {
  it('fires on a day far from its baseline only with enough history, in the direction that matters', () => {
    const opts = { zThreshold: 3.5, minChangePct: 30, minHistoryDays: 7 };
    const history = [100, 104, 96, 101, 99, 103, 97, 102];
    expect(judgeAgainstBaseline('spend', 400, history, 'both', opts)).toMatchObject({
      kind: 'above_baseline',
      median: 100.5,
    });
    expect(judgeAgainstBaseline('spend', 400, history.slice(0, 6), 'both', opts)).toBeUndefined();
    expect(judgeAgainstBaseline('revenue', 400, history, 'down', opts)).toBeUndefined();
    expect(judgeAgainstBaseline('revenue', 20, history, 'down', opts)).toMatchObject({
      kind: 'below_baseline',
    });
    // 10 % off is a small change whatever the z-score says.
    expect(
      judgeAgainstBaseline('spend', 111, [100, 100, 100, 100, 100, 100, 100], 'both', opts),
    ).toBeUndefined();
  });

  it('treats the same error with other numbers and ids as the same problem', () => {
    const a = errorSignature(
      'qtickets: no answer from host within 30000 ms (run 5f0c1a2b-1111-4222-8333-444455556666)',
    );
    const b = errorSignature(
      'qtickets: no answer from host within 30012 ms (run 7a0c1a2b-1111-4222-8333-444455556666)',
    );
    expect(a).toBe(b);
    expect(errorSignature('HTTP 401 invalid token')).not.toBe(a);
  });

  it('escapes every dynamic value and attaches a very long error', () => {
    const c: AlertCandidate = {
      code: 'RUN_FAILED',
      job: 'vk_fetch',
      dataDate: '2026-11-29',
      runId: 'r1',
      signature: 's',
      facts: {
        window: { fromDate: '2026-11-27', toDate: '2026-11-29' },
        runStartedAt: 1_795_000_000,
        errMsg: `<script>alert(1)</script> & ${'x'.repeat(10_000)}`,
      },
    };
    const r = renderAlert(c, 'ru', 'Europe/Moscow');
    expect(r.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp;');
    expect(r.html).not.toContain('<script>');
    expect(r.html).toMatch(/Данные за \(МСК\): 2026-11-27..2026-11-29/);
    expect(r.html).toMatch(/Что делать/);
    expect(r.html.length).toBeLessThan(4096);
    expect(r.attachment?.text.length).toBeGreaterThan(10_000);
    expect(renderAlert(c, 'en', 'Europe/Moscow').html).toMatch(/Run failed[\s\S]*Next/);
    const missed = renderAlert(
      {
        code: 'MISSED_RUN',
        job: 'vk_fetch',
        dataDate: null,
        runId: null,
        signature: 'slot',
        facts: { slotAt: 1_795_999_700 },
      },
      'ru',
      'Europe/Moscow',
    );
    expect(missed.text).toMatch(
      /Пропущен запуск по расписанию[\s\S]*в 2026-11-30 03:48:20 \(МСК\) не состоялся[\s\S]*etl run vk_fetch/,
    );
  });
});

describe('alert buttons and the resolved text', () => {
  const alertId = '0f8fad5b-d9cb-469f-a165-70867728950e';

  it('labels Retry and History per language, with callback data the bot can parse back', () => {
    expect(runFailedButtons({ alertId, job: 'build_dm_sales' }, 'ru')).toEqual([
      [
        { text: 'Повторить', callbackData: `al:retry:${alertId}` },
        { text: 'История', callbackData: 'al:hist:build_dm_sales' },
      ],
    ]);
    expect(runFailedButtons({ alertId, job: 'vk_fetch' }, 'en')[0]?.map((b) => b.text)).toEqual([
      'Retry',
      'History',
    ]);
    expect(parseAlertCallback(retryCallbackData(alertId))).toEqual({ action: 'retry', alertId });
    expect(parseAlertCallback(historyCallbackData('vk_fetch'))).toEqual({ action: 'hist', job: 'vk_fetch' });
    expect(Buffer.byteLength(retryCallbackData(alertId))).toBe(45);
    for (const data of ['al:retry:', 'al:retry:42', 'al:hist:', 'al:hist:a b', 'bf:pick:1', 'al:other:x']) {
      expect(parseAlertCallback(data)).toBeUndefined();
    }
  });

  it('never builds callback data over 64 bytes: the builder throws, the keyboard leaves the button out', () => {
    const job = 'j'.repeat(57);
    expect(() => historyCallbackData(job)).toThrow(/65 bytes.*at most 64/);
    expect(historyCallbackData('j'.repeat(56))).toHaveLength(64);
    expect(runFailedButtons({ alertId, job }, 'ru')).toEqual([
      [{ text: 'Повторить', callbackData: `al:retry:${alertId}` }],
    ]);
  });

  it('says how long a failure lasted in its two largest units', () => {
    expect([45, 720, 7_500, 7_200, 277_200].map((s) => formatElapsed(s, 'ru'))).toEqual([
      '45 с',
      '12 мин',
      '2 ч 5 мин',
      '2 ч',
      '3 дн 5 ч',
    ]);
    expect(formatElapsed(7_500, 'en')).toBe('2 h 5 min');
    expect(formatElapsed(-3, 'en')).toBe('0 s');
  });

  it('renders the resolved alert as first told plus who resolved it, from the stored plain text when needed', () => {
    const c: AlertCandidate = {
      code: 'RUN_FAILED',
      job: 'vk_fetch',
      dataDate: '2026-11-29',
      runId: 'r1',
      signature: 'sig',
      facts: { window: { fromDate: '2026-11-27', toDate: '2026-11-29' }, errMsg: 'a < b & c' },
    };
    const first = renderAlert(c, 'ru', 'Europe/Moscow');
    const alert = {
      code: c.code,
      job: c.job,
      dataDate: c.dataDate,
      runId: c.runId,
      contextJson: JSON.stringify({ ...c.facts, signature: c.signature }),
      message: first.text,
      ts: 1_795_000_000,
    };
    const resolution = {
      runId: 'abcdef12-3456-4789-8abc-def012345678',
      trigger: 'chat',
      resolvedAt: 1_795_007_500,
    };
    expect(renderResolvedAlert(alert, resolution, 'ru', 'Europe/Moscow')).toBe(
      `${first.html}\n\n<b>✅ Решено: запуск abcdef12 (chat) через 2 ч 5 мин</b>`,
    );
    expect(renderResolvedAlert(alert, resolution, 'en', 'Europe/Moscow')).toMatch(
      /Run failed[\s\S]*<b>✅ Resolved by run abcdef12 \(chat\) after 2 h 5 min<\/b>$/,
    );
    const fromText = renderResolvedAlert(
      { ...alert, contextJson: '{oops' },
      resolution,
      'ru',
      'Europe/Moscow',
    );
    expect(fromText).toBe(
      `${escapeHtml(first.text)}\n\n<b>✅ Решено: запуск abcdef12 (chat) через 2 ч 5 мин</b>`,
    );
    const long = renderResolvedAlert(
      { ...alert, contextJson: '', message: 'x'.repeat(10_000) },
      resolution,
      'ru',
      'Europe/Moscow',
    );
    expect(htmlToPlainText(long).length).toBeLessThanOrEqual(4096);
    expect(long).toMatch(/x…\n\n<b>✅ Решено/);
  });
});

describe('alerter', () => {
  it('tells a failure once, folds repeats, reminds after the interval, and tells the recovery', async () => {
    const notifier = createRecordingNotifier();
    let nowMs = Date.parse('2026-11-30T03:00:00Z');
    const alerter = createAlerter({ db: app.db, notifier, config, logger: silentLogger, now: () => nowMs });
    await alerter.onRun(run('vk_fetch', 'error', 'vk_ads: HTTP 503 after 5 attempts (took 30100 ms)'));
    expect(notifier.sent).toHaveLength(1);
    expect(notifier.sent[0]?.html).toMatch(/Сбой запуска[\s\S]*vk_fetch/);
    for (let i = 0; i < 10; i++) {
      nowMs += 60_000;
      await alerter.onRun(
        run('vk_fetch', 'error', `vk_ads: HTTP 503 after 5 attempts (took ${30_000 + i} ms)`),
      );
    }
    expect(notifier.sent).toHaveLength(1);
    expect(await alertsOf(app.db, 'vk_fetch')).toEqual([
      { code: 'RUN_FAILED', occurrences: 11, delivery_state: 'delivered', resolved: 0 },
    ]);
    nowMs += config.alerts.remindAfterMs;
    await alerter.onRun(run('vk_fetch', 'error', 'vk_ads: HTTP 503 after 5 attempts (took 30999 ms)'));
    expect(notifier.sent).toHaveLength(2);
    expect(notifier.sent[1]?.html).toMatch(/Повторяется: 12/);
    // A different error is a different problem.
    await alerter.onRun(run('vk_fetch', 'error', 'vk_ads: VK Ads refused the access token'));
    expect(notifier.sent).toHaveLength(3);
    await alerter.onRun(run('vk_fetch', 'ok'));
    expect(notifier.sent).toHaveLength(4);
    expect(notifier.sent[3]?.html).toMatch(/Восстановлено/);
    const rows = await alertsOf(app.db, 'vk_fetch');
    expect(rows.filter((r) => r.code === 'RUN_FAILED').map((r) => r.resolved)).toEqual([1, 1]);
    expect(rows.filter((r) => r.code === 'RECOVERED')).toHaveLength(1);
  });

  it('ZERO_ROWS when a job succeeds without writing anything', async () => {
    const notifier = createRecordingNotifier();
    const alerter = createAlerter({ db: app.db, notifier, config, logger: silentLogger });
    await alerter.onRun(run('qtickets_fetch', 'ok', '', 0));
    expect(notifier.sent).toHaveLength(1);
    expect(notifier.sent[0]?.html).toMatch(/Нет данных[\s\S]*zakaz\.stg_qtickets_sales/);
    expect(notifier.sent[0]?.buttons).toBeUndefined();
    await alerter.onRun(run('qtickets_fetch', 'ok', '', 0));
    expect(notifier.sent).toHaveLength(1);
  });

  it('keeps an undelivered alert in the outbox and delivers it exactly once later', async () => {
    const down = createRecordingNotifier();
    down.mode = 'unavailable';
    const first = createAlerter({ db: app.db, notifier: down, config, logger: silentLogger });
    await first.onRun(run('build_dm_sales', 'error', 'ClickHouse error 241: memory limit exceeded'));
    expect(readOutbox(config.dataDir).entries).toHaveLength(1);
    const [stored] = await alertsOf(app.db, 'build_dm_sales');
    expect(stored?.delivery_state).toBe('pending');
    const up = createRecordingNotifier();
    const later = createAlerter({ db: app.db, notifier: up, config, logger: silentLogger });
    expect(await later.flushOutbox()).toBe(1);
    expect(await later.flushOutbox()).toBe(0);
    expect(up.sent).toHaveLength(1);
    expect(readOutbox(config.dataDir).entries).toHaveLength(0);
    expect((await alertsOf(app.db, 'build_dm_sales'))[0]?.delivery_state).toBe('delivered');
  });

  it('delivers even when ClickHouse cannot store the alert, and stores it later', async () => {
    const failing: DbClient = {
      query: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:8123')),
      command: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:8123')),
      insert: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:8123')),
    };
    const db: Db = { ...app.db, control: failing };
    const notifier = createRecordingNotifier();
    const alerter = createAlerter({ db, notifier, config, logger: silentLogger });
    await alerter.onRun(run('build_dm_vk', 'error', 'something broke'));
    expect(notifier.sent).toHaveLength(1);
    expect(await alertsOf(app.db, 'build_dm_vk')).toEqual([]);
    const recovered = createAlerter({ db: app.db, notifier, config, logger: silentLogger });
    expect(await recovered.flushOutbox()).toBe(1);
    expect(notifier.sent).toHaveLength(1);
    expect(await alertsOf(app.db, 'build_dm_vk')).toMatchObject([
      { code: 'RUN_FAILED', delivery_state: 'delivered' },
    ]);
  });

  it('does not drop an undelivered failure when the job recovers before the channel is back', async () => {
    const down = createRecordingNotifier();
    down.mode = 'unavailable';
    const alerter = createAlerter({ db: app.db, notifier: down, config, logger: silentLogger });
    await alerter.onRun(run('job_a', 'error', 'first problem'));
    await alerter.onRun(run('job_a', 'ok'));
    const up = createRecordingNotifier();
    await createAlerter({ db: app.db, notifier: up, config, logger: silentLogger }).flushOutbox();
    expect(up.sent.map((m) => /Сбой запуска|Восстановлено/.exec(m.html)?.[0])).toEqual([
      'Сбой запуска',
      'Восстановлено',
    ]);
  });

  it('resolves a failure only with a run that reloaded its data date', async () => {
    const notifier = createRecordingNotifier();
    const alerter = createAlerter({ db: app.db, notifier, config, logger: silentLogger });
    await alerter.onRun(run('job_b', 'error', 'boom'));
    await alerter.onRun({ ...run('job_b', 'ok'), fromDate: '2026-11-01', toDate: '2026-11-01' });
    expect(notifier.sent).toHaveLength(1);
    await alerter.onRun(run('job_b', 'ok'));
    expect(notifier.sent).toHaveLength(2);
    expect(notifier.sent[1]?.html).toMatch(/Восстановлено/);
  });

  it('two processes flushing the same outbox deliver an alert once', async () => {
    const down = createRecordingNotifier();
    down.mode = 'unavailable';
    await createAlerter({ db: app.db, notifier: down, config, logger: silentLogger }).onRun(
      run('job_c', 'error', 'x'),
    );
    const slow = createRecordingNotifier();
    const slowSend = slow.send.bind(slow);
    slow.send = async (m) => {
      await new Promise((r) => setTimeout(r, 200));
      return slowSend(m);
    };
    const a = createAlerter({ db: app.db, notifier: slow, config, logger: silentLogger });
    const b = createAlerter({ db: app.db, notifier: slow, config, logger: silentLogger });
    await Promise.all([a.flushOutbox(), b.flushOutbox()]);
    expect(slow.sent.filter((m) => m.html.includes('job_c'))).toHaveLength(1);
  });

  it('moves an unreadable outbox file aside instead of failing every start', async () => {
    const dir = path.join(config.dataDir, 'outbox', 'alerts');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'zz-1.json'), '{}');
    const alerter = createAlerter({
      db: app.db,
      notifier: createRecordingNotifier(),
      config,
      logger: silentLogger,
    });
    await expect(alerter.flushOutbox()).resolves.toBe(0);
    expect(existsSync(path.join(dir, 'zz-1.json.broken'))).toBe(true);
  });

  it('records a refusal (bot kicked) instead of retrying forever', async () => {
    const notifier = createRecordingNotifier();
    notifier.mode = 'rejected';
    const alerter = createAlerter({ db: app.db, notifier, config, logger: silentLogger });
    const [alert] = await alerter.onRun(run('backfill_all', 'error', 'cancelled: received SIGTERM'));
    expect(alert).toMatchObject({
      deliveryState: 'rejected',
      deliveryError: 'Forbidden: bot was kicked from the group chat',
    });
    expect(readOutbox(config.dataDir).entries).toHaveLength(0);
  });

  it('gives RUN_FAILED (and its reminder) the Retry and History buttons, RECOVERED none', async () => {
    const notifier = createRecordingNotifier();
    let nowMs = Date.parse('2026-11-30T03:00:00Z');
    const alerter = createAlerter({ db: app.db, notifier, config, logger: silentLogger, now: () => nowMs });
    const [failed] = await alerter.onRun(run('job_btn', 'error', 'boom'));
    const buttons = [
      [
        { text: 'Повторить', callbackData: `al:retry:${failed?.alertId}` },
        { text: 'История', callbackData: 'al:hist:job_btn' },
      ],
    ];
    expect(notifier.sent[0]?.buttons).toEqual(buttons);
    nowMs += config.alerts.remindAfterMs;
    await alerter.onRun(run('job_btn', 'error', 'boom'));
    expect(notifier.sent[1]?.buttons).toEqual(buttons);
    await alerter.onRun(run('job_btn', 'ok'));
    expect(notifier.sent[2]?.html).toMatch(/Восстановлено/);
    expect(notifier.sent[2]?.buttons).toBeUndefined();
  });

  it('edits the resolved failure once: which run, after how long, no buttons; then tells RECOVERED', async () => {
    const notifier = createRecordingNotifier();
    let nowMs = Date.parse('2026-11-30T03:00:00Z');
    const alerter = createAlerter({ db: app.db, notifier, config, logger: silentLogger, now: () => nowMs });
    const [failed] = await alerter.onRun(run('job_edit', 'error', 'boom'));
    nowMs += 7_500_000; // 2 h 5 min
    const fix = {
      ...run('job_edit', 'ok'),
      runId: 'abcdef12-3456-4789-8abc-def012345678',
      trigger: 'chat' as const,
    };
    await alerter.onRun(fix);
    expect(notifier.edits).toEqual([
      {
        target: { chatId: '-100500', messageId: failed?.messageId },
        message: {
          html: expect.stringMatching(
            /Сбой запуска[\s\S]*job_edit[\s\S]*\n\n<b>✅ Решено: запуск abcdef12 \(chat\) через 2 ч 5 мин<\/b>$/,
          ) as unknown,
        },
      },
    ]);
    expect(notifier.sent.at(-1)?.html).toMatch(/Восстановлено/);
    // The next success finds nothing open: no second edit, no second RECOVERED.
    await alerter.onRun(run('job_edit', 'ok'));
    expect(notifier.edits).toHaveLength(1);
    expect(notifier.sent).toHaveLength(2);
    expect(await alertsOf(app.db, 'job_edit')).toMatchObject([
      { code: 'RUN_FAILED', resolved: 1 },
      { code: 'RECOVERED', resolved: 0 },
    ]);
  });

  it('a failing edit is logged and neither blocks RECOVERED nor loses the resolution', async () => {
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
    for (const editMode of ['rejected', 'unavailable'] as const) {
      const job = `job_edit_${editMode}`;
      const notifier = createRecordingNotifier();
      notifier.editMode = editMode;
      const alerter = createAlerter({ db: app.db, notifier, config, logger });
      await alerter.onRun(run(job, 'error', 'boom'));
      await alerter.onRun(run(job, 'ok'));
      expect(notifier.edits).toHaveLength(1);
      expect(notifier.sent.map((m) => /Сбой запуска|Восстановлено/.exec(m.html)?.[0])).toEqual([
        'Сбой запуска',
        'Восстановлено',
      ]);
      expect((await alertsOf(app.db, job)).map((r) => [r.code, r.resolved]).sort()).toEqual([
        ['RECOVERED', 0],
        ['RUN_FAILED', 1],
      ]);
    }
    expect(lines.filter((l) => l.includes('could not mark the resolved alert'))).toHaveLength(2);
    expect(readOutbox(config.dataDir).entries).toHaveLength(0);
  });

  it('works with a notifier that cannot edit (the terminal)', async () => {
    const recording = createRecordingNotifier();
    const notifier: Notifier = { channel: 'telegram', send: (m) => recording.send(m) };
    const alerter = createAlerter({ db: app.db, notifier, config, logger: silentLogger });
    await alerter.onRun(run('job_noedit', 'error', 'boom'));
    await alerter.onRun(run('job_noedit', 'ok'));
    expect(recording.sent).toHaveLength(2);
    expect(recording.edits).toHaveLength(0);
  });

  it('keeps the buttons in the outbox for a later delivery, and drops them once the failure is resolved', async () => {
    const down = createRecordingNotifier();
    down.mode = 'unavailable';
    const first = createAlerter({ db: app.db, notifier: down, config, logger: silentLogger });
    const [pending] = await first.onRun(run('job_outbox', 'error', 'boom'));
    expect(readOutbox(config.dataDir).entries[0]?.message?.buttons).toEqual([
      [
        { text: 'Повторить', callbackData: `al:retry:${pending?.alertId}` },
        { text: 'История', callbackData: 'al:hist:job_outbox' },
      ],
    ]);
    const up = createRecordingNotifier();
    await createAlerter({ db: app.db, notifier: up, config, logger: silentLogger }).flushOutbox();
    expect(up.sent[0]?.buttons?.[0]?.map((b) => b.callbackData)).toEqual([
      `al:retry:${pending?.alertId}`,
      'al:hist:job_outbox',
    ]);

    // Resolved while still undelivered: it goes out later without Retry/History, and nothing is edited.
    await first.onRun(run('job_outbox2', 'error', 'boom'));
    await first.onRun(run('job_outbox2', 'ok'));
    const later = createRecordingNotifier();
    await createAlerter({ db: app.db, notifier: later, config, logger: silentLogger }).flushOutbox();
    expect(later.sent.map((m) => [/Сбой запуска|Восстановлено/.exec(m.html)?.[0], m.buttons])).toEqual([
      ['Сбой запуска', undefined],
      ['Восстановлено', undefined],
    ]);
    expect([...down.edits, ...later.edits]).toEqual([]);
  });

  it('sends the alert without buttons the notifier refuses as malformed, instead of keeping it for ever', async () => {
    const recording = createRecordingNotifier();
    const notifier: Notifier = {
      channel: 'telegram',
      send: (m) =>
        m.buttons
          ? Promise.reject(new RangeError('inline button has callback data of 65 bytes'))
          : recording.send(m),
    };
    const alerter = createAlerter({ db: app.db, notifier, config, logger: silentLogger });
    const [alert] = await alerter.onRun(run('job_badbuttons', 'error', 'boom'));
    expect(alert?.deliveryState).toBe('delivered');
    expect(recording.sent).toHaveLength(1);
    expect(readOutbox(config.dataDir).entries).toHaveLength(0);
  });
});
