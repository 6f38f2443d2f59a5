/**
 * The `etl` executable as systemd, CI and people run it: separate processes on one embedded
 * ClickHouse directory, exit codes 0/1/2/75, no stack traces, no secrets, killed runs closed.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, businessDate } from '../src/time/dates.js';
import { startQticketsSandbox, type QticketsSandbox } from '../src/sandbox/qticketsSandbox.js';
import { startVkAdsSandbox, type VkAdsSandbox } from '../src/sandbox/vkAdsSandbox.js';
import { startTelegramBotApi } from '../src/sandbox/telegramBotApi.js';
import { runEtl, spawnEtl, waitForOutput } from './helpers/cli.js';
import { tempDir, testEnv } from './helpers/env.js';

const today = businessDate(new Date(), 'Europe/Moscow');
let vk: VkAdsSandbox;
let qt: QticketsSandbox;
let env: Record<string, string>;

beforeAll(async () => {
  vk = await startVkAdsSandbox({ seed: 3 });
  qt = await startQticketsSandbox({ seed: 3 });
  env = testEnv(tempDir(), {
    VK_ADS_API_URL: vk.url,
    VK_ADS_CLIENT_ID: vk.clientId,
    VK_ADS_CLIENT_SECRET: vk.clientSecret,
    QTICKETS_API_URL: qt.url,
    QTICKETS_TOKEN: qt.token,
    CLICKHOUSE_LOCK_WAIT_MS: '60000',
  });
  const migrated = await runEtl(['migrate'], env);
  expect(migrated.code).toBe(0);
});
afterAll(async () => {
  await Promise.allSettled([vk.close(), qt.close()]);
});

async function historyJson(): Promise<Array<Record<string, unknown>>> {
  const r = await runEtl(['history', '--json', '--limit', '1000'], env);
  expect(r.code).toBe(0);
  return r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('etl CLI', () => {
  it('migrate twice: the second applies nothing', async () => {
    const r = await runEtl(['migrate'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/schema is up to date/);
  });

  it('run: exit 0 and a summary line; the run is in history with its trigger and actor', async () => {
    const r = await runEtl(
      ['run', 'qtickets_fetch', '--from', '2026-01-01', '--to', '2026-01-03', '--actor', 'ops'],
      env,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /qtickets_fetch ok: window 2026-01-01..2026-01-03, \d+ rows read, \d+ rows written/,
    );
    const runs = await historyJson();
    expect(runs[0]).toMatchObject({
      job: 'qtickets_fetch',
      status: 'ok',
      trigger: 'cli',
      actor: 'ops',
      fromDate: '2026-01-01',
    });
  });

  it('an upstream failure: exit 1, a readable error, and no secret in output or logs', async () => {
    vk.faults.failAll = { status: 500, body: { error: { code: 'ERR_INTERNAL', message: 'Internal error' } } };
    try {
      const r = await runEtl(['run', 'vk_fetch', '--from', '2026-01-01', '--to', '2026-01-02'], {
        ...env,
        LOG_LEVEL: 'trace',
      });
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/vk_fetch FAILED/);
      expect(r.stdout).toMatch(/HTTP 500/);
      const all = r.stdout + r.stderr;
      expect(all).not.toContain(vk.clientSecret);
      expect(all).not.toContain(qt.token);
      expect(all).not.toMatch(/at .*\.ts:\d+/);
    } finally {
      vk.faults.reset();
    }
  });

  it('bad input: exit 2 with a clear message, no stack trace, and nothing recorded', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['run', 'no_such_job'], /unknown job "no_such_job"/],
      [['run', 'build_dm_sales', '--from', '2025-02-30'], /--from must be a real calendar date/],
      [['run', 'build_dm_sales', '--from', '2025-03-10', '--to', '2025-03-01'], /is after --to/],
      [['run', 'build_dm_sales', '--from', '2020-01-01', '--to', '2025-01-01'], /at most 366 are allowed/],
      [
        ['run', 'build_dm_sales', '--from', "2025-01-01'; DROP TABLE meta.etl_runs; --"],
        /real calendar date/,
      ],
      [['run', 'build_dm_sales', '--to', '２０２５-01-01'], /real calendar date/],
      [['backfill', '--from', '2025-01-01'], /required option '--to/],
      [
        ['backfill', '--from', '2025-01-01', '--to', '2025-01-05', '--jobs', 'vk_fetch,bogus'],
        /unknown: bogus/,
      ],
      [
        ['backfill', '--from', '2025-01-01', '--to', '2025-01-05', '--chunk-days', '-3'],
        /--chunk-days must be/,
      ],
      [
        ['run', 'build_dm_sales', '--from', addDays(today, 1), '--to', addDays(today, 2)],
        /reaches into the future/,
      ],
      [['backfill', '--from', addDays(today, -1), '--to', addDays(today, 3)], /reaches into the future/],
      [
        ['run', 'vk_fetch', '--from', addDays(today, -400), '--to', addDays(today, -390)],
        /last 366 days only/,
      ],
      [
        ['backfill', '--from', addDays(today, -400), '--to', addDays(today, -390)],
        /--jobs qtickets_fetch,build_dm_sales/,
      ],
      [
        ['run', 'build_dm_vk', '--from', '1969-12-30', '--to', '1970-01-02'],
        /between 1970-01-01 and 2149-06-06/,
      ],
      [
        ['run', 'build_dm_vk', '--from', '9999-12-30', '--to', '9999-12-31'],
        /between 1970-01-01 and 2149-06-06/,
      ],
      [['history', '--limit', '0'], /--limit must be a whole number/],
      [['history', '--job', 'Москва'], /unknown job "Москва"/],
      [['frobnicate'], /unknown command/],
    ];
    const before = (await historyJson()).length;
    for (const [args, message] of cases) {
      const r = await runEtl(args, env);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect((await historyJson()).length).toBe(before);
  }, 240_000);

  it('bad configuration: exit 2 naming every bad variable', async () => {
    const r = await runEtl(['history'], {
      ...env,
      ETL_TIMEZONE: 'Mars/Olympus',
      HTTP_RETRIES: 'many',
      CLICKHOUSE_URL: 'ftp://x',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ETL_TIMEZONE: expected an IANA time zone/);
    expect(r.stderr).toMatch(/HTTP_RETRIES: expected a whole number/);
    expect(r.stderr).toMatch(/CLICKHOUSE_URL: expected an http\(s\) URL/);
  });

  it('etl bot without Telegram configured, or with a refused token: exit 2 naming the variable', async () => {
    const missing = await runEtl(['bot'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/TG_BOT_TOKEN: required by etl bot/);
    const noChat = await runEtl(['bot'], { ...env, TG_BOT_TOKEN: '123:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
    expect(noChat.code).toBe(2);
    expect(noChat.stderr).toMatch(/TG_CHAT_ID or TG_ALLOWED_CHAT_IDS/);
    const tg = await startTelegramBotApi();
    try {
      const refused = await runEtl(['bot'], {
        ...env,
        TG_BOT_TOKEN: '999:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB',
        TG_CHAT_ID: '-100',
        TG_API_ROOT: tg.url,
      });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/TG_BOT_TOKEN: Telegram refused the token/);
      expect(refused.stderr).not.toContain('BBBBBBBB');
      expect(refused.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await tg.close();
    }
  });

  it('unusable paths, a mistyped data dir and an unreachable server: clear messages, nothing created', async () => {
    const root = tempDir();
    writeFileSync(path.join(root, 'a-file'), 'x');
    const underFile = await runEtl(['history'], { ...env, ETL_DATA_DIR: path.join(root, 'a-file', 'state') });
    expect(underFile.code).toBe(2);
    expect(underFile.stderr).toMatch(/ETL_DATA_DIR: cannot use .*a part of the path is a file/);

    const typo = path.join(root, 'clickhuose');
    const mistyped = await runEtl(['history'], { ...env, CLICKHOUSE_DATA_DIR: typo });
    expect(mistyped.code).toBe(2);
    expect(mistyped.stderr).toMatch(/CLICKHOUSE_DATA_DIR: there is no database in .* yet; run "etl migrate"/);
    expect(existsSync(typo)).toBe(false);

    const withPassword = await runEtl(['history'], {
      ...env,
      CLICKHOUSE_URL: 'ftp://etl:S3cretPass@ch.example:9000',
    });
    expect(withPassword.code).toBe(2);
    expect(withPassword.stderr).not.toContain('S3cretPass');

    const closed = await runEtl(['history'], {
      ...env,
      CLICKHOUSE_URL: 'http://127.0.0.1:1',
      CLICKHOUSE_PASSWORD: 'pw-12345',
    });
    expect(closed.code).toBe(1);
    expect(closed.stderr).toMatch(/^etl: ClickHouse call failed \(server\): .*ECONNREFUSED/);
    expect(closed.stderr.trim().split('\n')).toHaveLength(1);
    expect(closed.stderr).not.toContain('pw-12345');
  });

  it('missing credentials for a fetch: exit 2 before anything runs', async () => {
    const r = await runEtl(['run', 'vk_fetch'], { ...env, VK_ADS_CLIENT_SECRET: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/VK_ADS_CLIENT_SECRET: required by vk_fetch/);
  });

  it('two `etl run build_dm_sales` started together: one runs, the other exits 75', async () => {
    // A year-long window keeps the first run busy long enough (one partition swap per day).
    const args = ['run', 'build_dm_sales', '--from', '2025-01-01', '--to', '2025-12-31'];
    const [a, b] = await Promise.all([runEtl(args, env), runEtl(args, env)]);
    const codes = [a.code, b.code].sort();
    expect(codes).toEqual([0, 75]);
    const loser = a.code === 75 ? a : b;
    expect(loser.stderr).toMatch(/build_dm_sales is already running \(pid \d+/);
    const runs = (await historyJson()).filter(
      (r) => r.job === 'build_dm_sales' && r.fromDate === '2025-01-01',
    );
    expect(runs).toHaveLength(1);
    expect(runs[0]?.status).toBe('ok');
  });

  it('a run killed with SIGKILL is closed as error by the next etl invocation', async () => {
    qt.faults.delayMs = 30_000;
    try {
      const child = spawnEtl(['run', 'qtickets_fetch', '--from', '2026-02-01', '--to', '2026-02-02'], {
        ...env,
        LOG_LEVEL: 'info',
      });
      await waitForOutput(child, /"msg":"run started"/);
      child.kill('SIGKILL');
      const done = await child.result;
      expect(done.signal).toBe('SIGKILL');
    } finally {
      qt.faults.delayMs = 0;
    }
    const runs = await historyJson();
    const killed = runs.find((r) => r.job === 'qtickets_fetch' && r.fromDate === '2026-02-01');
    expect(killed).toMatchObject({ status: 'error' });
    expect(String(killed?.errMsg)).toMatch(/^interrupted: process \d+ on .+ stopped without finishing/);
    // Closed once: later invocations do not add another row.
    const again = (await historyJson()).filter(
      (r) => r.job === 'qtickets_fetch' && r.fromDate === '2026-02-01',
    );
    expect(again).toHaveLength(1);
  });

  it('SIGTERM during a run (systemd stop): the run is recorded as cancelled and the process exits', async () => {
    qt.faults.delayMs = 30_000;
    try {
      const child = spawnEtl(['run', 'qtickets_fetch', '--from', '2026-04-01', '--to', '2026-04-01'], {
        ...env,
        LOG_LEVEL: 'info',
      });
      await waitForOutput(child, /"msg":"run started"/);
      child.kill('SIGTERM');
      const done = await child.result;
      expect(done.code).toBe(1);
      expect(done.stdout).toMatch(/qtickets_fetch FAILED/);
      expect(done.stdout).toMatch(/qtickets_fetch was cancelled: received SIGTERM/);
    } finally {
      qt.faults.delayMs = 0;
    }
    const run = (await historyJson()).find((r) => r.job === 'qtickets_fetch' && r.fromDate === '2026-04-01');
    expect(run).toMatchObject({ status: 'error', errMsg: 'qtickets_fetch was cancelled: received SIGTERM' });
  });

  it('the embedded database held by another process: wait, then exit 75 naming the owner', async () => {
    qt.faults.delayMs = 30_000;
    const child = spawnEtl(['run', 'qtickets_fetch', '--from', '2026-03-01', '--to', '2026-03-01'], {
      ...env,
      LOG_LEVEL: 'info',
    });
    try {
      await waitForOutput(child, /"msg":"run started"/);
      const r = await runEtl(['history'], { ...env, CLICKHOUSE_LOCK_WAIT_MS: '500' });
      expect(r.code).toBe(75);
      expect(r.stderr).toMatch(
        /^etl: The embedded ClickHouse data directory .+ is in use by process \d+ \("etl run qtickets_fetch"/,
      );
      // One clear sentence: nothing from the engine, no stack.
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      child.kill('SIGKILL');
      await child.result;
      qt.faults.delayMs = 0;
    }
  });

  it('backfill --dry-run shows the steps and runs nothing', async () => {
    const before = (await historyJson()).length;
    const r = await runEtl(['backfill', '--from', '2026-01-01', '--to', '2026-01-10', '--dry-run'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/dry run: 8 steps over 2026-01-01..2026-01-10/);
    expect(r.stdout).toMatch(/zakaz.stg_qtickets_sales/);
    const buildsOnly = await runEtl(
      ['backfill', '--from', '2026-01-01', '--to', '2026-01-10', '--jobs', 'build_dm_sales', '--dry-run'],
      env,
    );
    expect(buildsOnly.stdout).toMatch(/dry run: 2 steps/);
    expect(buildsOnly.stdout).toMatch(/zakaz.dm_sales_daily/);
    expect(buildsOnly.stdout).not.toMatch(/zakaz.stg_/);
    expect((await historyJson()).length).toBe(before);
  });

  it('--help works for every command', async () => {
    for (const cmd of [[], ['run'], ['backfill'], ['history'], ['migrate'], ['demo'], ['bot']]) {
      const r = await runEtl([...cmd, '--help'], env);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Usage: etl/);
    }
  });
});
