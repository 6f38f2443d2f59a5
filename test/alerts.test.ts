/**
 * Alert rules, dedup, reminders, recovery and the outbox, on a real embedded ClickHouse
 * (`meta.etl_alerts`), with the run registry's real records.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlerter } from '../src/alerts/alerter.js';
import { errorSignature, type AlertCandidate } from '../src/alerts/alert.js';
import { judgeAgainstBaseline } from '../src/alerts/anomaly.js';
import { renderAlert } from '../src/alerts/texts.js';
import { openApp, type App } from '../src/app/openApp.js';
import type { Db, DbClient } from '../src/clickhouse/db.js';
import type { RunRecord } from '../src/runner/runRecord.js';
import { readOutbox } from '../src/alerts/outbox.js';
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
});
