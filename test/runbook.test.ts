/**
 * docs/RUNBOOK.md is exercised, not just proofread: every `etl …` command in its shell blocks runs
 * through the real CLI (against the local VK Ads, QTickets and Telegram servers and an embedded
 * ClickHouse) without a usage error, every SQL statement runs on the real schema, every systemd
 * unit and infra file it names exists, and its `gh workflow run` lines match the workflow.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/clickhouse/db.js';
import { splitSql } from '../src/clickhouse/splitSql.js';
import { loadConfig } from '../src/config/loadConfig.js';
import { JOB_NAMES, STEP_JOBS } from '../src/runner/job.js';
import { startQticketsSandbox, type QticketsSandbox } from '../src/sandbox/qticketsSandbox.js';
import { startTelegramBotApi, type TelegramBotApi } from '../src/sandbox/telegramBotApi.js';
import { startVkAdsSandbox, type VkAdsSandbox } from '../src/sandbox/vkAdsSandbox.js';
import { addDays, businessDate } from '../src/time/dates.js';
import { runEtl } from './helpers/cli.js';
import { silentLogger, tempDir, testEnv, sandboxEnv } from './helpers/env.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RUNBOOK = readFileSync(path.join(ROOT, 'docs', 'RUNBOOK.md'), 'utf8');
/** The day the runbook's example dates were written against; they are shifted to stay as recent. */
const WRITTEN_ON = '2026-11-30';

/** The fenced blocks of one language, in order. */
function blocks(language: string): string[] {
  return [...RUNBOOK.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map(
    (m) => m[1] ?? '',
  );
}

/** Shell words of a command line (double and single quotes kept together). */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
}

/** Every `etl …` invocation in the shell blocks, as argument lists (after `npx`, `sudo -u etl …`, `&&`). */
function etlCommands(): string[][] {
  const out: string[][] = [];
  for (const block of blocks('sh')) {
    for (const line of block.split('\n')) {
      for (const part of line.split('&&')) {
        const w = words(part.trim());
        const at = w.indexOf('etl');
        if (at >= 0 && (at === 0 || w[at - 1] === 'npx')) out.push(w.slice(at + 1));
      }
    }
  }
  return out;
}

const etl = etlCommands();
let vk: VkAdsSandbox;
let qt: QticketsSandbox;
let tg: TelegramBotApi;
let env: Record<string, string>;
let unitDir: string;

beforeAll(async () => {
  vk = await startVkAdsSandbox({ seed: 21, rateLimits: { rps: 1000 } });
  qt = await startQticketsSandbox({ seed: 21 });
  tg = await startTelegramBotApi();
  unitDir = tempDir('runbook-units');
  env = testEnv(tempDir('runbook'), {
    ...sandboxEnv(vk, qt, tg),
    TG_CHAT_ID: '-1001234567',
    TG_ADMIN_USER_IDS: '42',
    CLICKHOUSE_LOCK_WAIT_MS: '60000',
  });
});
afterAll(async () => {
  await Promise.allSettled([vk?.close(), qt?.close(), tg?.close()]);
});

/** The runbook's dates moved by the days passed since it was written (windows stay recent). */
function shifted(args: string[]): string[] {
  const today = businessDate(new Date(), 'Europe/Moscow');
  const days = Math.round((Date.parse(today) - Date.parse(WRITTEN_ON)) / 86_400_000);
  return args.map((a) => a.replace(/\b\d{4}-\d{2}-\d{2}\b/g, (d) => addDays(d, days)));
}

describe('docs/RUNBOOK.md', () => {
  it('is Russian and covers every section of the runbook', () => {
    for (const section of [
      'Компоненты',
      'Точки входа',
      'Установка (systemd) и расписание',
      'GitHub Actions',
      'Алерты',
      'DataLens',
      'Процедуры',
      'Диагностика неисправностей',
      'Обслуживание',
      'Откат',
    ]) {
      expect(RUNBOOK).toMatch(new RegExp(`^## \\d+\\. ${section.replace(/[()]/g, '\\$&')}`, 'm'));
    }
    const letters = RUNBOOK.replace(/```[\s\S]*?```|`[^`]*`/g, '').match(/\p{L}/gu) ?? [];
    const cyrillic = letters.filter((c) => /\p{Script=Cyrillic}/u.test(c)).length;
    expect(cyrillic / letters.length).toBeGreaterThan(0.6);
  });

  it('every etl command in it runs through the real CLI without a usage error', async () => {
    expect(etl.length).toBeGreaterThan(15);
    expect(new Set(etl.map((c) => c[0]))).toEqual(
      new Set([
        'doctor',
        'migrate',
        'schedule',
        'systemd',
        'notify',
        'history',
        'health',
        'run',
        'backfill',
        'rollback',
      ]),
    );
    const later: string[][] = [];
    for (const command of etl) {
      if (command[0] === 'rollback') {
        later.push(command);
        continue;
      }
      // Long-running: the service itself is tested in test/bot.service.test.ts; here, its CLI entry.
      const args =
        command[0] === 'bot'
          ? ['bot', '--help']
          : shifted(command).map((a) => (a === '/etc/systemd/system' ? unitDir : a));
      const r = await runEtl(args, env);
      expect({ args, code: r.code, stderr: r.stderr.slice(0, 300) }).toMatchObject({
        args,
        code: expect.any(Number) as unknown,
      });
      // 0 ok; 1 a job or check failed (e.g. health before every table has yesterday's rows). Never 2.
      expect([0, 1], `etl ${args.join(' ')} exited ${r.code}: ${r.stderr.slice(0, 400)}`).toContain(r.code);
      expect(r.stderr).not.toMatch(
        /error: (unknown option|unknown command|missing required|too many arguments)/,
      );
    }
    // The documented notify reached the chat.
    expect(tg.sent.some((m) => m.plainText.includes('Проверка связи с чатом ETL'))).toBe(true);
    // systemd render --dir wrote the drop-ins.
    expect(readdirSync(unitDir).sort()).toContain('etl@vk_fetch.timer.d');

    // Rollback as documented: a dry run, the prompt refused outside a terminal, then (as a script would) --yes.
    expect(later.map((c) => c.join(' '))).toEqual(['rollback --dry-run', 'rollback']);
    const dry = await runEtl(['rollback', '--dry-run'], env);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('DROP TABLE IF EXISTS meta.etl_runs');
    const unconfirmed = await runEtl(['rollback'], env);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain('--yes');
    expect((await runEtl(['history'], env)).code).toBe(0);
  }, 600_000);

  it('every SQL statement in it runs on the real schema (GRANTs parse and only lack the user)', async () => {
    const config = loadConfig(env);
    const db = await openDatabase({ config, logger: silentLogger, owner: 'runbook test' });
    try {
      const statements = blocks('sql').flatMap((b) => splitSql(b));
      expect(statements.length).toBeGreaterThan(8);
      for (const sql of statements) {
        if (/^\s*GRANT /i.test(sql)) {
          // The embedded server has no `etl` user: 511 (unknown role) proves the statement parsed.
          await expect(db.command(sql)).rejects.toThrow(/error 511 .*no role `etl`/);
        } else {
          await db.query(sql);
        }
      }
    } finally {
      await db.close();
    }
  });

  it('rollback --yes drops the meta objects and etl migrate brings them back', async () => {
    const gone = await runEtl(['rollback', '--yes'], env);
    expect(gone.code).toBe(0);
    const doctor = await runEtl(['doctor'], env);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/FAIL {2}schema/);
    expect((await runEtl(['migrate'], env)).code).toBe(0);
    expect((await runEtl(['doctor'], env)).code).toBe(0);
  }, 240_000);

  it('names only systemd units and infra files that exist, and valid jobs', () => {
    const units = new Set(readdirSync(path.join(ROOT, 'infra', 'systemd')));
    const named = new Set(RUNBOOK.match(/\betl(?:@[a-z_*]*)?(?:-bot|-health)?\.(?:service|timer)\b/g) ?? []);
    expect(named.size).toBeGreaterThan(5);
    for (const unit of named) {
      const instance = /^etl@([a-z_*]+)\.(service|timer)$/.exec(unit);
      if (instance) {
        expect(units, unit).toContain(`etl@.${instance[2]}`);
        if (instance[1] !== '*') expect(STEP_JOBS as readonly string[], unit).toContain(instance[1]);
      } else {
        expect(units, unit).toContain(unit.replace(/^etl@\./, 'etl@.'));
      }
    }
    for (const file of RUNBOOK.match(/\binfra\/(?:systemd|bin)\/[\w@.-]+/g) ?? []) {
      expect(existsSync(path.join(ROOT, file)), file).toBe(true);
    }
  });

  it('its gh workflow run lines match the ETL Dispatch inputs', () => {
    const workflow = readFileSync(path.join(ROOT, '.github', 'workflows', 'etl_dispatch.yml'), 'utf8');
    const lines = blocks('sh')
      .flatMap((b) => b.split('\n'))
      .filter((l) => l.startsWith('gh workflow run'));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      const w = words(line);
      expect(w[3]).toBe('etl_dispatch.yml');
      for (let i = 4; i < w.length; i += 2) {
        expect(w[i]).toBe('-f');
        const [key = '', value = ''] = (w[i + 1] ?? '').split('=');
        expect(['job', 'from', 'to']).toContain(key);
        expect(workflow).toMatch(new RegExp(`^      ${key}:$`, 'm'));
        if (key === 'job') expect(JOB_NAMES as readonly string[]).toContain(value);
      }
    }
  });

  it('the server wrapper infra/bin/etl runs the CLI exactly as the units do', () => {
    const wrapper = readFileSync(path.join(ROOT, 'infra', 'bin', 'etl'), 'utf8');
    const unit = readFileSync(path.join(ROOT, 'infra', 'systemd', 'etl@.service'), 'utf8');
    const setting = (key: string) => [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]);
    for (const env of setting('Environment')) expect(wrapper).toContain(`-p Environment=${env}`);
    expect(wrapper).toContain(`-p EnvironmentFile=${setting('EnvironmentFile')[0]}`);
    expect(wrapper).toContain(`-p WorkingDirectory=${setting('WorkingDirectory')[0]}`);
    expect(wrapper).toContain(`-p StateDirectory=${setting('StateDirectory')[0]}`);
    expect(setting('User')[0]).toBe('etl');
    const entry = /^ExecStart=(\S+ \S+)/m.exec(unit)?.[1];
    expect(wrapper).toContain(`${entry} "$@"`);
    expect(RUNBOOK).toContain('install -m 0755 infra/bin/etl /usr/local/bin/etl');
  });
});
