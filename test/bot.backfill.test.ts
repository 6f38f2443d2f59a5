/**
 * The whole /backfill dialog through grammY's real pipeline on a real embedded ClickHouse: pick
 * jobs, navigate a month back on the calendar, pick two days, see the preview, confirm; one
 * progress message edited in place; Stop after the current step; one backfill at a time; the
 * range limit; only the starter presses the buttons; the dialog survives a restart.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { addMonths } from '../src/bot/calendar.js';
import { listAlerts } from '../src/alerts/alertStore.js';
import { countRuns, listRuns } from '../src/runner/registry.js';
import { businessDate } from '../src/time/dates.js';
import { ADMIN, READER, startTestBot, type TestBot } from './helpers/bot.js';
import { buttonsOf, textOf } from './helpers/fakeBotApi.js';
import { tempDir } from './helpers/env.js';

let t: TestBot;
const today = businessDate(new Date(), 'Europe/Moscow');
const lastMonth = addMonths(today.slice(0, 7), -1);
const packed = (iso: string) => iso.replaceAll('-', '');

beforeAll(async () => {
  t = await startTestBot(tempDir('bot-backfill'), {
    env: { ETL_BACKFILL_CHUNK_DAYS: '1', BOT_BACKFILL_MAX_DAYS: '5', TG_ADMIN_USER_IDS: '42,44' },
    vk: { rateLimits: { rps: 1000 } },
  });
});
afterAll(async () => {
  await t?.close();
});

/** The message id the dialog was opened in (the /backfill reply). */
async function openDialog(bot: TestBot = t): Promise<number> {
  bot.api.clear();
  await bot.send('/backfill');
  const reply = bot.api.last('sendMessage');
  expect(buttonsOf(reply)).toContain('bf:j:all');
  return reply?.messageId ?? -1;
}

describe('/backfill', () => {
  it('picks jobs, goes a month back, picks two days, previews, confirms, and reports progress in one message', async () => {
    const msg = await openDialog();
    // A 429 on a call made inside the dialog is waited out too (the retry sits below the replay).
    t.api.fail429('editMessageText', 1, 0);
    await t.tap('bf:j:all', msg);
    expect(t.api.of('editMessageText#429')).toHaveLength(1);
    const calendar = t.api.last('editMessageText');
    expect(calendar?.payload.message_id).toBe(msg);
    expect(textOf(calendar)).toContain('первый');
    const back = buttonsOf(calendar).find((d) => d === `cal:m:${packed(lastMonth)}`);
    expect(back).toBeDefined();
    // Every callback_data fits Telegram's 64 bytes.
    expect(buttonsOf(calendar).every((d) => Buffer.byteLength(d) <= 64)).toBe(true);
    // Today and the future cannot be chosen.
    expect(buttonsOf(calendar)).not.toContain(`cal:d:${packed(today)}`);

    await t.tap(back ?? '', msg);
    const previous = t.api.last('editMessageText');
    expect(textOf(previous)).toContain('первый');
    const from = `${lastMonth}-20`;
    const to = `${lastMonth}-21`;
    expect(buttonsOf(previous)).toContain(`cal:d:${packed(from)}`);

    await t.tap(`cal:d:${packed(from)}`, msg);
    expect(textOf(t.api.last('editMessageText'))).toContain('последний');
    // The "to" calendar does not offer days before "from".
    expect(buttonsOf(t.api.last('editMessageText'))).not.toContain(`cal:d:${packed(`${lastMonth}-19`)}`);
    await t.tap(`cal:d:${packed(to)}`, msg);

    const preview = t.api.last('editMessageText');
    const previewText = textOf(preview);
    expect(previewText).toContain(`${from} — ${to}`);
    expect(previewText).toContain('Дней: 2');
    expect(previewText).toContain('шагов: 8');
    expect(previewText).toContain('zakaz.dm_sales_daily</code>: 0');
    expect(buttonsOf(preview)).toEqual(['bf:ok', 'bf:x']);

    const before = t.api.calls.length;
    await t.tap('bf:ok', msg);
    await t.settle();
    const edits = t.api.calls.slice(before).filter((c) => c.method === 'editMessageText');
    expect(edits.length).toBeGreaterThanOrEqual(2);
    expect(edits.every((e) => e.payload.message_id === msg)).toBe(true);
    expect(edits.some((e) => buttonsOf(e).some((d) => /^bf:stop:\d+$/.test(d)))).toBe(true);
    const final = edits.at(-1);
    expect(textOf(final)).toContain('Готово');
    expect(textOf(final)).toContain(`Полностью перезагружено: ${from} — ${to}`);
    expect(buttonsOf(final)).toEqual([]);
    expect(textOf(t.api.last('sendMessage'))).toContain('Бэкфилл завершён');

    const runs = await listRuns(t.sb.app.db, { limit: 50 });
    const parent = runs.find((r) => r.job === 'backfill_all');
    expect(parent).toMatchObject({
      status: 'ok',
      trigger: 'chat',
      actor: '42:alice',
      fromDate: from,
      toDate: to,
    });
    const steps = runs.filter((r) => r.parentRunId === parent?.runId);
    expect(steps).toHaveLength(8);
    expect(steps.every((s) => s.actor === '42:alice' && s.status === 'ok')).toBe(true);

    // The same range now previews the rows it would replace.
    const again = await openDialog();
    await t.tap('bf:j:build_dm_sales', again);
    await t.tap(`cal:m:${packed(lastMonth)}`, again);
    expect(buttonsOf(t.api.last('editMessageText')).some((d) => d === `cal:d:${packed(from)}`)).toBe(true);
    expect(
      (
        t.api.last('editMessageText')?.payload.reply_markup as {
          inline_keyboard: Array<Array<{ text: string }>>;
        }
      ).inline_keyboard
        .flat()
        .some((b) => b.text === '20✅'),
    ).toBe(true);
    await t.tap(`cal:d:${packed(from)}`, again);
    await t.tap(`cal:d:${packed(to)}`, again);
    expect(textOf(t.api.last('editMessageText'))).toMatch(/zakaz\.dm_sales_daily<\/code>: [1-9]\d*/);
    await t.tap('bf:x', again);
    expect(textOf(t.api.last('editMessageText'))).toContain('отменён');
  });

  it('Stop stops after the current step and says what was done', async () => {
    t.sb.vk.faults.delayMs = 400;
    try {
      const msg = await openDialog();
      await t.tap('bf:j:vk_fetch', msg);
      await t.tap(`cal:m:${packed(lastMonth)}`, msg);
      await t.tap(`cal:d:${packed(`${lastMonth}-01`)}`, msg);
      await t.tap(`cal:d:${packed(`${lastMonth}-04`)}`, msg);
      expect(textOf(t.api.last('editMessageText'))).toContain('Дней: 4');
      const vkRequests = t.sb.vk.stats.requests.length;
      await t.tap('bf:ok', msg);
      const progress = t.api.calls.find((c) => buttonsOf(c).some((d) => d.startsWith('bf:stop:')));
      const stop = buttonsOf(progress).find((d) => d.startsWith('bf:stop:')) ?? '';
      expect(stop).not.toBe('');

      // A second backfill while this one runs is refused politely.
      await t.send('/backfill');
      expect(textOf(t.api.last('sendMessage'))).toContain('Бэкфилл уже выполняется');
      // Readers cannot stop it.
      await t.tap(stop, msg, READER);
      expect(t.api.last('answerCallbackQuery')?.payload).toMatchObject({ show_alert: true });

      // Stop while the first step is under way (the sandbox answers slowly).
      await vi.waitFor(() => expect(t.sb.vk.stats.requests.length).toBeGreaterThan(vkRequests), {
        timeout: 10_000,
      });
      // A Stop button pressed on another message does nothing.
      await t.tap(stop, msg + 1000);
      expect(t.api.last('answerCallbackQuery')?.payload.text).toContain('уже не выполняется');
      await t.tap(stop, msg);
      expect(t.api.last('answerCallbackQuery')?.payload.text).toContain('Остановлю');
      await t.settle();
      const final = t.api.of('editMessageText').at(-1);
      expect(textOf(final)).toContain('<b>Остановлено</b> после шага 1 из 4');
      expect(textOf(final)).toContain(`Не перезагружено: ${lastMonth}-02 — ${lastMonth}-04`);
      const runs = await listRuns(t.sb.app.db, { limit: 10 });
      const parent = runs.find((r) => r.job === 'backfill_all');
      expect(parent?.status).toBe('error');
      expect(parent?.errMsg).toMatch(/cancel/i);
      expect(runs.filter((r) => r.parentRunId === parent?.runId)).toHaveLength(1);
      // Stopping on request is not a failure: no RUN_FAILED alert for the backfill.
      const alerts = await listAlerts(t.sb.app.db.control, 20);
      expect(alerts.filter((a) => a.runId === parent?.runId)).toEqual([]);
    } finally {
      t.sb.vk.faults.delayMs = 0;
    }
  });

  it("only the admin who started the dialog may press its buttons, and nobody else's command ends it", async () => {
    const msg = await openDialog();
    const carol = { ...ADMIN, userId: 44, username: 'carol' };
    const inactive = 'Кнопка неактивна: диалог завершён или его ведёт другой участник.';
    await t.tap('bf:j:all', msg, carol);
    expect(t.api.last('answerCallbackQuery')?.payload.text).toBe(inactive);
    await t.tap('bf:j:all', msg, READER);
    expect(t.api.last('answerCallbackQuery')?.payload.text).toBe(inactive);
    // A reader's /help or /cancel and another admin's /backfill leave this dialog alone.
    await t.send('/help', READER);
    await t.send('/cancel', READER);
    expect(textOf(t.api.last('sendMessage'))).toContain('Нечего отменять');
    await t.send('/backfill', carol);
    const carols = t.api.last('sendMessage');
    expect(buttonsOf(carols)).toContain('bf:j:all');
    await t.tap('bf:j:build_dm_vk', msg);
    expect(textOf(t.api.last('editMessageText'))).toContain('первый');
    await t.tap('bf:x', carols?.messageId ?? -1, carol);
    // The starter's own /cancel ends it.
    await t.send('/cancel');
    expect(textOf(t.api.last('sendMessage'))).toBe('Диалог отменён.');
    await t.tap(`cal:m:${packed(lastMonth)}`, msg);
    expect(t.api.last('answerCallbackQuery')?.payload.text).toBe(inactive);
  });

  it('a double tap on a month arrow and a forged month keep the dialog alive', async () => {
    const msg = await openDialog();
    await t.tap('bf:j:build_dm_sales', msg);
    await t.tap(`cal:m:${packed(lastMonth)}`, msg);
    const edits = t.api.of('editMessageText').length;
    await t.tap(`cal:m:${packed(lastMonth)}`, msg);
    await t.tap('cal:m:999912', msg);
    expect(t.api.of('editMessageText')).toHaveLength(edits);
    await t.tap(`cal:d:${packed(`${lastMonth}-03`)}`, msg);
    expect(textOf(t.api.last('editMessageText'))).toContain('последний');
    await t.tap('bf:x', msg);
  });

  it('the "to" calendar stops at BOT_BACKFILL_MAX_DAYS, and a forged day beyond it is ignored', async () => {
    const runsBefore = await countRuns(t.sb.app.db);
    const msg = await openDialog();
    await t.tap('bf:j:build_dm_vk', msg);
    await t.tap(`cal:m:${packed(lastMonth)}`, msg);
    await t.tap(`cal:d:${packed(`${lastMonth}-10`)}`, msg);
    const toCalendar = buttonsOf(t.api.last('editMessageText'));
    expect(toCalendar).toContain(`cal:d:${packed(`${lastMonth}-14`)}`);
    expect(toCalendar).not.toContain(`cal:d:${packed(`${lastMonth}-15`)}`);
    const edits = t.api.of('editMessageText').length;
    await t.tap(`cal:d:${packed(`${lastMonth}-25`)}`, msg);
    await t.tap('cal:d:20250230', msg);
    expect(t.api.of('editMessageText')).toHaveLength(edits);
    await t.tap('bf:x', msg);
    expect(await countRuns(t.sb.app.db)).toBe(runsBefore);
  });

  it('commands still work while a dialog waits, and /backfill restarts it', async () => {
    const msg = await openDialog();
    await t.send('/status');
    expect(textOf(t.api.last('sendMessage'))).toContain('Сейчас ничего не выполняется');
    await t.send('/backfill');
    const second = t.api.last('sendMessage');
    expect(buttonsOf(second)).toContain('bf:j:all');
    await t.tap('bf:j:all', msg);
    expect(t.api.last('answerCallbackQuery')?.payload.text).toBe(
      'Кнопка неактивна: диалог завершён или его ведёт другой участник.',
    );
  });

  it('the dialog survives a restart of the bot (state on disk)', async () => {
    const msg = await openDialog();
    await t.tap('bf:j:qtickets_fetch', msg);
    const restarted = t.restart();
    await restarted.tap(`cal:m:${packed(lastMonth)}`, msg);
    const edit = restarted.api.last('editMessageText');
    expect(edit?.payload.message_id).toBe(msg);
    expect(buttonsOf(edit)).toContain(`cal:d:${packed(`${lastMonth}-15`)}`);
    await restarted.tap('bf:x', msg);
    expect(textOf(restarted.api.last('editMessageText'))).toContain('отменён');
  });
});
