/**
 * `etl doctor` as a user runs it (the real CLI in a child process): all green on a fresh demo
 * setup; a wrong ClickHouse URL named with exit 1; a full setup against the local Telegram, VK
 * Ads and QTickets servers passes, and each broken credential or chat is named with its fix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startQticketsSandbox, type QticketsSandbox } from '../src/sandbox/qticketsSandbox.js';
import { startTelegramBotApi, type TelegramBotApi } from '../src/sandbox/telegramBotApi.js';
import { startVkAdsSandbox, type VkAdsSandbox } from '../src/sandbox/vkAdsSandbox.js';
import { runEtl } from './helpers/cli.js';
import { tempDir, testEnv, sandboxEnv } from './helpers/env.js';

let tg: TelegramBotApi;
let vk: VkAdsSandbox;
let qt: QticketsSandbox;
let demoEnv: Record<string, string>;
let fullEnv: Record<string, string>;

interface Report {
  ok: boolean;
  checks: Array<{ area: string; status: string; detail: string; fix?: string }>;
}

async function doctorJson(env: Record<string, string>): Promise<{ code: number | null; report: Report }> {
  const r = await runEtl(['doctor', '--json'], env);
  return { code: r.code, report: JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as Report };
}

beforeAll(async () => {
  tg = await startTelegramBotApi();
  vk = await startVkAdsSandbox({ seed: 11 });
  qt = await startQticketsSandbox({ seed: 11 });
  const root = tempDir('doctor');
  // The demo's own setup: what `npm run demo` leaves behind, read with the paths it prints.
  const demo = await runEtl(['demo', '--days', '2'], testEnv(root), root);
  expect(demo.code).toBe(0);
  demoEnv = testEnv(root, {
    CLICKHOUSE_DATA_DIR: `${root}/data/demo/clickhouse`,
    ETL_DATA_DIR: `${root}/data/demo/state`,
  });
  fullEnv = testEnv(tempDir('doctor-full'), {
    ...sandboxEnv(vk, qt, tg),
    TG_CHAT_ID: '-1001234567',
    TG_ADMIN_USER_IDS: '42',
  });
  expect((await runEtl(['migrate'], fullEnv)).code).toBe(0);
}, 240_000);

afterAll(async () => {
  await Promise.allSettled([tg?.close(), vk?.close(), qt?.close()]);
});

describe('etl doctor', () => {
  it('a fresh demo setup is all green: exit 0', async () => {
    const r = await runEtl(['doctor'], demoEnv);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('doctor: all checks passed');
    expect(r.stdout).toMatch(/ok {4}schema {6}every migration is applied/);
    expect(r.stdout).toMatch(/ok {4}grants/);
    // Not configured is said, not failed.
    expect(r.stdout).toMatch(/skip {2}telegram/);
  });

  it('a wrong ClickHouse URL is named, with how to fix it: exit 1', async () => {
    const r = await runEtl(['doctor'], { ...demoEnv, CLICKHOUSE_URL: 'http://127.0.0.1:1' });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL {2}clickhouse {2}ClickHouse at 127\.0\.0\.1:1: .*ECONNREFUSED/);
    expect(r.stdout).toContain('→ check CLICKHOUSE_URL');
    expect(r.stdout).toContain('doctor: 1 check(s) failed');
  });

  it('a database that was never created: exit 1 saying to run etl migrate', async () => {
    const r = await runEtl(['doctor'], testEnv(tempDir('doctor-empty')));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL {2}clickhouse {2}there is no database in/);
    expect(r.stdout).toContain('run "etl migrate"');
  });

  it('a full setup passes every check, Telegram and upstreams included', async () => {
    const { code, report } = await doctorJson(fullEnv);
    expect(report.checks.filter((c) => c.status !== 'ok')).toEqual([]);
    expect(code).toBe(0);
    const areas = new Set(report.checks.map((c) => c.area));
    for (const area of [
      'state',
      'clickhouse',
      'schema',
      'grants',
      'telegram',
      'vk_ads',
      'qtickets',
      'schedule',
    ]) {
      expect(areas).toContain(area);
    }
    expect(report.checks.find((c) => c.area === 'telegram')?.detail).toMatch(/token ok: the bot is @/);
  });

  it('a refused token, a chat the bot left, bad upstream credentials: each named, exit 1', async () => {
    tg.faults.kickedChats = ['-1001234567'];
    try {
      const { code, report } = await doctorJson({
        ...fullEnv,
        // A state dir without the VK token the previous check stored (a stored token would still work).
        ETL_DATA_DIR: tempDir('doctor-state'),
        VK_ADS_CLIENT_SECRET: 'wrong-secret',
        QTICKETS_TOKEN: 'wrong-token',
        HTTP_RETRIES: '0',
      });
      expect(code).toBe(1);
      const failed = report.checks.filter((c) => c.status === 'fail');
      expect(failed.map((c) => c.area).sort()).toEqual(['qtickets', 'telegram', 'vk_ads']);
      expect(failed.find((c) => c.area === 'telegram')?.detail).toMatch(/kicked/);
      expect(failed.every((c) => (c.fix ?? '').length > 10)).toBe(true);
      expect(JSON.stringify(report)).not.toContain('wrong-secret');
      expect(JSON.stringify(report)).not.toContain('wrong-token');
    } finally {
      tg.faults.reset();
    }
    const refused = await doctorJson({ ...fullEnv, TG_BOT_TOKEN: '999:CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC' });
    expect(refused.code).toBe(1);
    expect(refused.report.checks.find((c) => c.area === 'telegram')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/Telegram refused TG_BOT_TOKEN/) as unknown,
    });
  });

  it('a bad configuration is listed, variable by variable: exit 1', async () => {
    const r = await runEtl(['doctor'], {
      ...demoEnv,
      ETL_TIMEZONE: 'Mars/Olympus',
      SCHEDULE_VK_FETCH: '99 99 * * *',
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL {2}config {6}ETL_TIMEZONE/);
    expect(r.stdout).toMatch(/FAIL {2}config {6}SCHEDULE_VK_FETCH/);
  });

  it('a schedule that never fires fails; one systemd cannot express is a warning', async () => {
    const { code, report } = await doctorJson({
      ...demoEnv,
      SCHEDULE_HEALTHCHECK: '0 3 31 2 *',
      SCHEDULE_BUILD_DM_VK: '0 6 15W * *',
    });
    expect(code).toBe(1);
    const schedule = report.checks.filter((c) => c.area === 'schedule');
    expect(schedule.find((c) => c.detail.startsWith('healthcheck'))).toMatchObject({ status: 'fail' });
    expect(schedule.find((c) => c.detail.startsWith('build_dm_vk'))).toMatchObject({ status: 'warn' });
    expect(schedule.find((c) => c.detail.startsWith('vk_fetch'))).toMatchObject({ status: 'ok' });
  });
});
