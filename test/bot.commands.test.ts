/**
 * Chat commands through grammY's real pipeline (handleUpdate, outgoing calls captured at the HTTP
 * client) on a real embedded ClickHouse: /run with confirmation and result, access control,
 * /history with its PNG chart, /health, /alerts, /status, /schedule, /help, /cancel, stale
 * buttons, and fuzzed arguments that must change nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCommandMenu } from '../src/bot/createBot.js';
import { listAlerts } from '../src/alerts/alertStore.js';
import { retryCallbackData } from '../src/alerts/alertButtons.js';
import { countRuns, listRuns } from '../src/runner/registry.js';
import { ADMIN, READER, STRANGER, startTestBot, type TestBot } from './helpers/bot.js';
import { lockJob } from '../src/runner/runner.js';
import { silentLogger, tempDir } from './helpers/env.js';
import { buttonsOf, textOf } from './helpers/fakeBotApi.js';

let t: TestBot;

beforeAll(async () => {
  t = await startTestBot(tempDir('bot-commands'));
});
afterAll(async () => {
  await t?.close();
});

/** Text of the last sendMessage. */
const lastText = () => textOf(t.api.last('sendMessage'));

describe('/run', () => {
  it('an admin confirms /run build_dm_sales and gets the result; the run records the actor', async () => {
    t.api.clear();
    await t.send('/run build_dm_sales');
    const confirm = t.api.last('sendMessage');
    expect(textOf(confirm)).toContain('build_dm_sales');
    const go = buttonsOf(confirm).find((d) => d.startsWith('run:go:'));
    expect(go).toMatch(/^run:go:build_dm_sales:\d{8}:\d{8}$/);
    expect(await countRuns(t.sb.app.db, 'build_dm_sales')).toBe(0);

    await t.tap(go ?? '', 100);
    expect(String(t.api.last('editMessageText')?.payload.text)).toContain('build_dm_sales');
    await t.settle();

    const result = t.api.last('sendMessage');
    expect(result?.payload.reply_parameters).toMatchObject({ message_id: 100 });
    const text = textOf(result);
    expect(text).toContain('✅');
    expect(text).toMatch(/Строк прочитано: \d+, записано: \d+/);
    const [run] = await listRuns(t.sb.app.db, { job: 'build_dm_sales', limit: 1 });
    expect(run).toMatchObject({ status: 'ok', trigger: 'chat', actor: '42:alice' });
    expect(text).toContain(run?.runId);
    expect(text).toContain(`${run?.fromDate} — ${run?.toDate}`);
  });

  it('a double tap on the confirmation starts one run', async () => {
    await t.send('/run build_dm_vk');
    const go = buttonsOf(t.api.last('sendMessage')).find((d) => d.startsWith('run:go:')) ?? '';
    const before = await countRuns(t.sb.app.db, 'build_dm_vk');
    await t.tap(go, 200);
    await t.tap(go, 200);
    await t.settle();
    expect(await countRuns(t.sb.app.db, 'build_dm_vk')).toBe(before + 1);
    expect(t.api.last('answerCallbackQuery')?.payload.text).toBe('Эта кнопка больше не активна.');
  });

  it('without arguments offers a keyboard of jobs, then a confirmation of the default window', async () => {
    t.api.clear();
    await t.send('/run');
    expect(buttonsOf(t.api.last('sendMessage'))).toEqual([
      'run:j:vk_fetch',
      'run:j:qtickets_fetch',
      'run:j:build_dm_vk',
      'run:j:build_dm_sales',
      'run:no',
    ]);
    await t.tap('run:j:qtickets_fetch', 300);
    const edit = t.api.last('editMessageText');
    expect(buttonsOf(edit)[0]).toMatch(/^run:go:qtickets_fetch:\d{8}:\d{8}$/);
    await t.tap('run:no', 300);
    expect(t.api.last('editMessageText')?.payload.text).toBe('Запуск отменён.');
  });

  it('a non-admin is refused: no confirmation, no run, and the buttons do not work for them', async () => {
    const before = await countRuns(t.sb.app.db);
    t.api.clear();
    await t.send('/run build_dm_sales', READER);
    expect(lastText()).toContain('только администраторы');
    expect(buttonsOf(t.api.last('sendMessage'))).toEqual([]);
    await t.tap('run:go:build_dm_sales:20261101:20261101', 400, READER);
    expect(t.api.last('answerCallbackQuery')?.payload).toMatchObject({ show_alert: true });
    await t.send('/backfill', READER);
    expect(lastText()).toContain('только администраторы');
    await t.settle();
    expect(await countRuns(t.sb.app.db)).toBe(before);
  });

  it('a backfill is not started from /run: it points to /backfill', async () => {
    const before = await countRuns(t.sb.app.db);
    await t.send('/run backfill_all 2026-11-01 2026-11-03');
    expect(lastText()).toContain('/backfill');
    await t.tap('run:go:backfill_all:20261101:20261103', 800);
    expect(t.api.last('answerCallbackQuery')?.payload.text).toBe('Эта кнопка больше не активна.');
    await t.settle();
    expect(await countRuns(t.sb.app.db)).toBe(before);
  });

  it('a confirmed run starts even when Telegram refuses the tap answer, and says "started" only when it did', async () => {
    await t.send('/run build_dm_sales');
    const go = buttonsOf(t.api.last('sendMessage')).find((d) => d.startsWith('run:go:')) ?? '';
    const before = await countRuns(t.sb.app.db, 'build_dm_sales');
    t.api.fail('answerCallbackQuery', 1, 400, 'Bad Request: query is too old and response timeout expired');
    await t.tap(go, 810);
    await t.settle();
    expect(await countRuns(t.sb.app.db, 'build_dm_sales')).toBe(before + 1);

    // The job already running (its lock is held elsewhere): the confirmation says busy, never "started".
    await t.send('/run build_dm_sales');
    const again = buttonsOf(t.api.last('sendMessage')).find((d) => d.startsWith('run:go:')) ?? '';
    const lock = await lockJob({
      config: t.sb.config,
      job: 'build_dm_sales',
      trigger: 'cli',
      logger: silentLogger,
    });
    try {
      t.api.clear();
      await t.tap(again, 820);
      await t.settle();
    } finally {
      await lock.release();
    }
    const edits = t.api.of('editMessageText').map((c) => textOf(c));
    expect(edits).toHaveLength(1);
    expect(edits[0]).toContain('уже выполняется');
    expect(edits[0]).not.toContain('запущен');
    expect(await countRuns(t.sb.app.db, 'build_dm_sales')).toBe(before + 1);
  });

  it('a reader cannot cancel an admin’s confirmation', async () => {
    await t.tap('run:no', 830, READER);
    expect(t.api.last('answerCallbackQuery')?.payload).toMatchObject({ show_alert: true });
    expect(t.api.of('editMessageText').filter((c) => c.payload.message_id === 830)).toEqual([]);
  });

  it('a confirmation older than the dialog timeout is no longer active', async () => {
    const before = await countRuns(t.sb.app.db);
    const old = Math.floor(Date.now() / 1000) - 3600;
    await t.tap('run:go:build_dm_sales:20261101:20261101', 500, ADMIN, old);
    expect(t.api.last('answerCallbackQuery')?.payload.text).toBe('Эта кнопка больше не активна.');
    await t.settle();
    expect(await countRuns(t.sb.app.db)).toBe(before);
  });
});

describe('access', () => {
  it('a chat that is not allowed gets no reply at all and starts nothing', async () => {
    const before = await countRuns(t.sb.app.db);
    t.api.clear();
    for (const text of ['/run build_dm_sales', '/health', '/history', '/help', '/backfill', '/status']) {
      await t.send(text, STRANGER);
    }
    await t.tap('run:go:build_dm_sales:20261101:20261101', 1, STRANGER);
    await t.settle();
    expect(t.api.calls).toEqual([]);
    expect(await countRuns(t.sb.app.db)).toBe(before);
  });

  it('readers may read', async () => {
    for (const command of ['/health', '/history', '/alerts', '/status', '/schedule', '/help']) {
      t.api.clear();
      await t.send(command, READER);
      expect(t.api.of('sendMessage'), command).toHaveLength(1);
      expect(lastText(), command).not.toContain('⛔');
    }
  });
});

describe('fuzzed arguments', () => {
  const cases = [
    '/run build_dm_sales 2025-02-30',
    '/run build_dm_sales 2026-11-10 2026-11-01',
    '/run build_dm_sales 1990-01-01 2026-11-01',
    '/run build_dm_sales 2999-01-01 2999-01-02',
    '/run vk_fetch 2020-01-01 2020-01-05',
    '/run nosuchjob',
    "/run build_dm_sales'; DROP TABLE meta.etl_runs; --",
    '/run vk_fetch; DROP TABLE meta.etl_runs',
    '/run бронирование 2026-11-01',
    '/run 🤖 💥',
    '/run build_dm_sales 2026-11-01 2026-11-02 extra',
    `/run ${'x'.repeat(3000)}`,
    '/run build_dm_sales 20261101',
    '/run backfill_all',
    '/history 0',
    '/history 99999',
    '/history drop',
    '/history vk_fetch -1',
    "/history ' OR 1=1 --",
    '/history vk_fetch vk_fetch',
    '/history 5 10',
    '/alerts abc',
    '/alerts 0',
    '/backfill 2026-11-01 2026-11-02',
  ];
  it.each(cases.map((c) => [c.length > 70 ? `${c.slice(0, 60)}… (${c.length} chars)` : c, c]))(
    '%s: a clear message, no run, no row',
    async (_label, text) => {
      const before = await countRuns(t.sb.app.db);
      t.api.clear();
      await t.send(text);
      await t.settle();
      const replies = t.api.of('sendMessage');
      expect(replies).toHaveLength(1);
      const reply = textOf(replies[0]);
      expect(reply.length).toBeGreaterThan(10);
      expect(reply.length).toBeLessThan(1000);
      expect(buttonsOf(replies[0]).filter((d) => d.startsWith('run:go:'))).toEqual([]);
      expect(await countRuns(t.sb.app.db)).toBe(before);
    },
  );

  it('explains what is wrong', async () => {
    await t.send('/run build_dm_sales 2025-02-30');
    expect(lastText()).toContain(
      'начальная дата должна быть настоящей датой ГГГГ-ММ-ДД, получено «2025-02-30»',
    );
    await t.send('/run build_dm_sales 2026-11-10 2026-11-01');
    expect(lastText()).toContain('начальная дата 2026-11-10 позже конечной 2026-11-01');
    await t.send('/run build_dm_sales 2999-01-01 2999-01-02');
    expect(lastText()).toContain('должна быть между 1970-01-01 и 2149-06-06');
    await t.send('/run build_dm_sales 2099-01-01 2099-01-02');
    expect(lastText()).toContain('период 2099-01-01 — 2099-01-02 заходит в будущее');
    await t.send('/run vk_fetch 2020-01-01 2020-01-05');
    expect(lastText()).toContain('VK Реклама хранит статистику только за последние 366 дн.');
    await t.send('/run build_dm_sales 1990-01-01 2026-11-01');
    expect(lastText()).toMatch(/можно не больше 366/);
    expect(
      t.api
        .of('sendMessage')
        .map((c) => textOf(c))
        .join('\n'),
    ).not.toMatch(/--from|--to/);
    await t.send('/run nosuchjob');
    expect(lastText()).toContain('Неизвестная задача «nosuchjob»');
    await t.send('/run <b>x</b>');
    expect(lastText()).toContain('&lt;b&gt;x&lt;/b&gt;');
  });
});

describe('alert buttons', () => {
  it('Retry reruns the failed window for admins only; History shows the job runs', async () => {
    t.sb.vk.faults.failAll = { status: 500, body: { error: { code: 'ERR_INTERNAL', message: 'boom' } } };
    const failed = await t.sb.app.runner.run({ job: 'vk_fetch', trigger: 'schedule' });
    t.sb.vk.faults.failAll = null;
    expect(failed.status).toBe('error');
    const alert = (await listAlerts(t.sb.app.db.control, 5)).find(
      (a) => a.code === 'RUN_FAILED' && a.runId === failed.runId,
    );
    expect(alert).toBeDefined();
    const retry = retryCallbackData(alert?.alertId ?? '');
    const before = await countRuns(t.sb.app.db, 'vk_fetch');

    await t.tap(retry, 900, READER);
    expect(t.api.last('answerCallbackQuery')?.payload).toMatchObject({ show_alert: true });
    await t.tap(retry, 900);
    await t.settle();
    expect(await countRuns(t.sb.app.db, 'vk_fetch')).toBe(before + 1);
    const [rerun] = await listRuns(t.sb.app.db, { job: 'vk_fetch', limit: 1 });
    expect(rerun).toMatchObject({
      status: 'ok',
      actor: '42:alice',
      trigger: 'chat',
      fromDate: failed.fromDate,
      toDate: failed.toDate,
    });
    expect(textOf(t.api.last('sendMessage'))).toContain(rerun?.runId);
    // The failure is resolved now: a second Retry says so and starts nothing.
    await t.tap(retry, 900);
    await t.settle();
    expect(await countRuns(t.sb.app.db, 'vk_fetch')).toBe(before + 1);

    await t.tap('al:hist:vk_fetch', 900, READER);
    expect(textOf(t.api.last('sendMessage'))).toMatch(/vk_fetch\s+ERR/);
  });
});

describe('read-only commands', () => {
  it('/history lists the runs in a monospace block; the chart button sends a PNG', async () => {
    t.api.clear();
    await t.send('/history build_dm_sales 5');
    const reply = t.api.last('sendMessage');
    const text = textOf(reply);
    expect(text).toContain('<pre>');
    expect(text).toMatch(/build_dm_sales\s+ok /);
    expect(buttonsOf(reply)).toEqual(['hist:c:build_dm_sales']);
    await t.tap('hist:c:build_dm_sales', 600);
    const photo = t.api.last('sendPhoto');
    expect(photo?.upload?.includes(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
  });

  it('/health answers with one line per check', async () => {
    t.api.clear();
    await t.send('/health');
    const text = lastText();
    expect(text).toContain('Проверка здоровья за');
    expect(text).toContain('zakaz.dm_sales_daily');
    expect(text.split('\n').filter((l) => /^[✅❌]/.test(l)).length).toBeGreaterThan(3);
    // Details in the bot's language too.
    expect(text).toMatch(/строк за \d{4}-\d{2}-\d{2}: \d+/);
    expect(text).not.toMatch(/rows for|never ran|finished/);
  });

  it('/status says what runs and /schedule lists every task', async () => {
    await t.send('/status');
    expect(lastText()).toContain('Сейчас ничего не выполняется');
    await t.send('/schedule');
    for (const task of ['vk_fetch', 'qtickets_fetch', 'build_dm_vk', 'build_dm_sales', 'healthcheck']) {
      expect(lastText()).toContain(task);
    }
    expect(lastText()).toContain('35 5 * * *');
  });

  it('/alerts lists alerts and stays under Telegram’s 4096 characters with many long ones', async () => {
    await t.sb.app.alerter.raise(
      Array.from({ length: 50 }, (_, i) => ({
        code: 'ZERO_ROWS' as const,
        job: 'build_dm_sales',
        dataDate: `2026-10-${String((i % 28) + 1).padStart(2, '0')}`,
        runId: null,
        signature: `long-${i}`,
        facts: { detail: `${'очень длинное описание '.repeat(12)} ${i}`, table: 'zakaz.dm_sales_daily' },
      })),
    );
    await t.send('/alerts 50');
    const text = lastText();
    expect(text).toContain('Последние алерты');
    expect(text.length).toBeLessThan(4096);
    expect(text).toMatch(/… и ещё \d+/);
    // Each line says what happened (not the alert's title again), dated like /history.
    expect(text).toContain('нет строк за 2026-10-');
    expect(text).not.toContain('Нет данных');
    expect(text).toMatch(/<code>\d{2}\.\d{2} \d{2}:\d{2}<\/code> <b>ZERO_ROWS<\/b>/);
  });

  it('/help, /cancel without a dialog, and a stale button', async () => {
    await t.send('/help');
    expect(lastText()).toContain('/backfill');
    expect(lastText()).toContain('Вы администратор');
    await t.send('/cancel');
    expect(lastText()).toContain('Нечего отменять');
    await t.tap('cal:d:20261101', 700);
    expect(t.api.last('answerCallbackQuery')?.payload.text).toBe(
      'Кнопка неактивна: диалог завершён или его ведёт другой участник.',
    );
  });

  it('registers the command menu with Russian descriptions', async () => {
    t.api.clear();
    await registerCommandMenu(t.bot.api, 'ru');
    const commands = t.api.last('setMyCommands')?.payload.commands as Array<{
      command: string;
      description: string;
    }>;
    expect(commands.map((c) => c.command)).toEqual([
      'run',
      'backfill',
      'health',
      'history',
      'alerts',
      'status',
      'schedule',
      'help',
      'cancel',
    ]);
    expect(commands.every((c) => /[а-я]/i.test(c.description) && c.description.length <= 256)).toBe(true);
  });

  it('a 429 from Telegram is waited out and the reply still arrives', async () => {
    t.api.clear();
    t.api.fail429('sendMessage', 2, 0);
    await t.send('/status');
    expect(t.api.of('sendMessage#429')).toHaveLength(2);
    expect(t.api.of('sendMessage')).toHaveLength(1);
  });
});
