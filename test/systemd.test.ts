/**
 * The systemd side of the schedule, checked by systemd's own tool: every unit in infra/systemd
 * passes `systemd-analyze verify` as installed (with the drop-ins `etl systemd render` writes),
 * and the timers' OnCalendar events fire at exactly the instants the bot's scheduler (croner,
 * `nextFireTimes`) does. systemd-analyze is required: a missing one fails these tests (.ci/run
 * installs it).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/loadConfig.js';
import { STEP_JOBS } from '../src/runner/job.js';
import { nextFireTimes, scheduleFromConfig, type ScheduleEntry } from '../src/scheduler/schedule.js';
import { CronNotExpressibleError, cronToOnCalendar } from '../src/scheduler/systemdCalendar.js';
import { runEtl } from './helpers/cli.js';
import { tempDir, testEnv } from './helpers/env.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const UNITS = path.join(ROOT, 'infra', 'systemd');
const DAY_MS = 86_400_000;

/** Runs systemd-analyze with TZ=UTC (its times then print in UTC); fails if it is not installed. */
function systemdAnalyze(args: string[]): { status: number; output: string } {
  const r = spawnSync('systemd-analyze', args, {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', TZ: 'UTC', SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '' },
  });
  if (r.error) {
    throw new Error(
      `systemd-analyze cannot run (${r.error.message}): install systemd (apt-get install systemd); .ci/run does this when it runs as root`,
    );
  }
  return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

/**
 * The instants `onCalendar` (several lines = their union, as in a timer) elapses after `after`
 * up to `until`, from `systemd-analyze calendar --base-time`. `atLeast` is how many elapses the
 * caller expects; each line is asked for more, and must either end ("never", fewer iterations)
 * or reach past `until`, so a line that fires more often than expected cannot hide.
 */
function timerElapses(onCalendar: string[], after: Date, until: Date, atLeast: number): number[] {
  const seen = new Set<number>();
  for (const event of onCalendar) {
    const iterations = atLeast + 3;
    const r = systemdAnalyze([
      'calendar',
      `--base-time=@${Math.floor(after.getTime() / 1000)}`,
      `--iterations=${iterations}`,
      event,
    ]);
    expect(r.status, r.output).toBe(0);
    // "    Next elapse: Thu 2026-01-01 02:35:00 UTC", then "Iter. #2: …" (systemd 252) or
    // "Iteration #2: …"; "never" when nothing is left. "(in UTC)" and "From now" lines skipped.
    const times: number[] = [];
    for (const line of r.output.split('\n')) {
      const m = /^\s*(?:Next elapse|Iter(?:ation|\.) #\d+):\s*(.+)$/.exec(line);
      if (!m || m[1] === 'never') continue;
      const t = /^\w{3} (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) UTC$/.exec(m[1] ?? '');
      if (!t) throw new Error(`unexpected systemd-analyze time "${m[1]}" (TZ=UTC not honoured?)`);
      times.push(Date.parse(`${t[1]}T${t[2]}Z`));
    }
    const last = times.at(-1);
    expect(times.length < iterations || (last !== undefined && last > until.getTime()), event).toBe(true);
    for (const t of times) if (t <= until.getTime()) seen.add(t);
  }
  return [...seen].sort((a, b) => a - b);
}

/** The bot's fire times of `entry` in (after, until]. */
function botFireTimes(entry: ScheduleEntry, after: Date, until: Date): number[] {
  return nextFireTimes(entry, after, 5_000)
    .map((d) => d.getTime())
    .filter((t) => t <= until.getTime());
}

/** Asserts the timer events and the bot agree on every fire time in (after, after + days]. */
function expectSameFireTimes(entry: ScheduleEntry, onCalendar: string[], after: Date, days: number) {
  const until = new Date(after.getTime() + days * DAY_MS);
  const bot = botFireTimes(entry, after, until);
  const timer = timerElapses(onCalendar, after, until, bot.length);
  const iso = (ts: number[]) => ts.map((t) => new Date(t).toISOString());
  expect(iso(timer), `${entry.cron} → ${onCalendar.join(' | ')} from ${after.toISOString()}`).toEqual(
    iso(bot),
  );
  return bot.length;
}

/** The effective OnCalendar list of a drop-in text: an empty assignment resets it, as in systemd. */
function onCalendarOf(text: string): string[] {
  let list: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^OnCalendar=(.*)$/.exec(line.trim());
    if (!m) continue;
    list = m[1] === '' ? [] : [...list, m[1] ?? ''];
  }
  return list;
}

const timerOf = (task: string) => (task === 'healthcheck' ? 'etl-health.timer' : `etl@${task}.timer`);
const dropInOf = (dir: string, task: string) => path.join(dir, `${timerOf(task)}.d`, '10-schedule.conf');

/** `etl systemd render --dir <new dir>` with `schedule` (SCHEDULE_* variables); returns the dir. */
async function render(schedule: Record<string, string>, dir = tempDir('zakaz-etl-dropins-')) {
  const r = await runEtl(['systemd', 'render', '--dir', dir], testEnv(tempDir(), schedule));
  expect(r.code, r.stderr).toBe(0);
  return dir;
}

// Now (whole seconds, as --base-time takes them) and a fixed instant that spans a month end,
// the 1st and the 15th, and a Sunday-to-Monday week turn.
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
const FIXED = new Date('2026-02-20T12:34:56Z');

describe('systemd-analyze verify', () => {
  /**
   * A fake root holding what the install steps in etl@.service put on a host: the units and the
   * rendered drop-ins in /etc/systemd/system, a `systemctl edit` override, the app under
   * /opt/zakaz-etl, /etc/zakaz-etl/etl.env, the `etl` user, and /usr/bin/node; plus the
   * distribution's own units (the targets ours depend on) from the systemd package that
   * provides systemd-analyze. `verify --root` then loads our units exactly as systemd would
   * there, without touching this machine (no `etl` user or /opt here, no root needed).
   * systemd 252 checks that ExecStart's executable exists; node is a stub, since only its path
   * matters (it is the Debian/NodeSource nodejs path).
   */
  let root: string;
  let unitDir: string;

  beforeAll(async () => {
    root = tempDir('zakaz-etl-systemd-root-');
    unitDir = path.join(root, 'etc', 'systemd', 'system');
    fs.mkdirSync(unitDir, { recursive: true });
    for (const f of fs.readdirSync(UNITS)) fs.copyFileSync(path.join(UNITS, f), path.join(unitDir, f));
    const distroUnits = ['/usr/lib/systemd/system', '/lib/systemd/system'].find((d) =>
      fs.existsSync(path.join(d, 'sysinit.target')),
    );
    if (!distroUnits) throw new Error('no systemd unit directory with sysinit.target: install systemd');
    fs.cpSync(distroUnits, path.join(root, 'usr', 'lib', 'systemd', 'system'), {
      recursive: true,
      verbatimSymlinks: true,
    });
    const file = (p: string, text: string, mode = 0o644) => {
      fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
      fs.writeFileSync(path.join(root, p), text, { mode });
    };
    file('usr/bin/node', '#!/bin/sh\nexit 0\n', 0o755);
    file(`opt/zakaz-etl/${etlBin()}`, '');
    file('etc/zakaz-etl/etl.env', '', 0o640);
    file(
      'etc/passwd',
      'root:x:0:0:root:/root:/bin/sh\netl:x:999:999::/var/lib/zakaz-etl:/usr/sbin/nologin\n',
    );
    file('etc/group', 'root:x:0:\netl:x:999:\n');
    await render({}, unitDir);
    file(
      'etc/systemd/system/etl@vk_fetch.timer.d/override.conf',
      '[Timer]\nOnCalendar=\nOnCalendar=*-*-* 07:00:00 Europe/Moscow\n',
    );
  });

  it('every unit in infra/systemd, templates instantiated per job, verifies without a word', () => {
    const names = fs.readdirSync(UNITS).flatMap((f) => {
      const template = /^(.+)@\.(service|timer)$/.exec(f);
      return template ? STEP_JOBS.map((job) => `${template[1]}@${job}.${template[2]}`) : [f];
    });
    expect(names).toEqual(
      expect.arrayContaining(['etl@vk_fetch.service', 'etl@vk_fetch.timer', 'etl-bot.service']),
    );
    // Unknown keys and bad values are only warnings (exit 0), so any output at all fails. No
    // line is filtered: in the fake root nothing is environmental.
    const r = systemdAnalyze(['verify', `--root=${root}`, ...names]);
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });

  it('the check has teeth: a timer without its rendered drop-in is refused', () => {
    const r = systemdAnalyze(['verify', `--root=${root}`, 'etl@not_rendered.timer']);
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/lacks value setting/);
  });

  it('every service starts the built etl from /opt/zakaz-etl (package.json bin)', () => {
    for (const f of fs.readdirSync(UNITS).filter((n) => n.endsWith('.service'))) {
      const exec = /^ExecStart=(\S+) (\S+)/m.exec(fs.readFileSync(path.join(UNITS, f), 'utf8'));
      expect(exec?.slice(1, 3), f).toEqual(['/usr/bin/node', `/opt/zakaz-etl/${etlBin()}`]);
    }
  });

  it('systemctl edit still wins: override.conf is read after 10-schedule.conf and resets it', () => {
    const r = systemdAnalyze([`--root=${root}`, 'cat-config', 'systemd/system/etl@vk_fetch.timer']);
    expect(r.status, r.output).toBe(0);
    const files = [...r.output.matchAll(/^# (\/\S+\.conf)$/gm)].map((m) => path.basename(m[1] ?? ''));
    expect(files).toEqual(['10-schedule.conf', 'override.conf']);
    expect(onCalendarOf(r.output)).toEqual(['*-*-* 07:00:00 Europe/Moscow']);
  });
});

describe('rendered OnCalendar fire times equal the bot’s next fire times', () => {
  it('the default schedule, for the next 30 days', async () => {
    const dir = await render({});
    for (const entry of scheduleFromConfig(loadConfig({}))) {
      const onCalendar = onCalendarOf(fs.readFileSync(dropInOf(dir, entry.task), 'utf8'));
      for (const after of [NOW, FIXED]) expect(expectSameFireTimes(entry, onCalendar, after, 30)).toBe(30);
    }
  });

  it('custom crons: lists, ranges, steps, weekdays, and day-of-month OR day-of-week', async () => {
    const schedule = {
      SCHEDULE_VK_FETCH: '*/15 9-18 * * 1-5',
      SCHEDULE_QTICKETS_FETCH: '0 6 1,15 * *',
      SCHEDULE_BUILD_DM_VK: '0 6 1 * 1',
      SCHEDULE_BUILD_DM_SALES: '30 23 * * 0',
      SCHEDULE_HEALTHCHECK: '0-30/10 */6 * jan-mar,dec fri-sun',
    };
    const dir = await render(schedule);
    const entries = scheduleFromConfig(loadConfig(schedule));
    const events = Object.fromEntries(
      entries.map((e) => [e.task, onCalendarOf(fs.readFileSync(dropInOf(dir, e.task), 'utf8'))]),
    );
    expect(events).toEqual({
      vk_fetch: ['Mon..Fri *-*-* 09..18:00/15:00 Europe/Moscow'],
      qtickets_fetch: ['*-*-01,15 06:00:00 Europe/Moscow'],
      // cron: the 1st OR a Monday; one event cannot say "or".
      build_dm_vk: ['*-*-01 06:00:00 Europe/Moscow', 'Mon *-*-* 06:00:00 Europe/Moscow'],
      build_dm_sales: ['Sun *-*-* 23:30:00 Europe/Moscow'],
      healthcheck: ['Fri..Sun *-01..03,12-* 00/6:00..30/10:00 Europe/Moscow'],
    });
    for (const entry of entries) {
      expectSameFireTimes(entry, events[entry.task] ?? [], NOW, 30);
      expect(expectSameFireTimes(entry, events[entry.task] ?? [], FIXED, 30)).toBeGreaterThan(0);
    }
  });

  it('croner’s day specials (L, #, nL, +, names, 7 = Sunday) over a year with a leap February', () => {
    const after = new Date('2027-12-15T00:00:00Z');
    const crons = [
      '0 6 L * *',
      '0 6 1,L * *',
      '0 6 * * 5L',
      '0 6 * * MON#2',
      '0 6 * * 1#1,3#5',
      '0 6 1-7 * +1',
      '0 6 L * +sun',
      '0 6 1,L * mon#1,tue',
      '0 6 */10 * sat',
      '0 6 ? * fri-sun',
      '0 6 * * 7',
      '15 4 29 2 *',
    ];
    for (const cron of crons) {
      const entry: ScheduleEntry = { task: 'vk_fetch', cron, timezone: 'Europe/Moscow' };
      expect(expectSameFireTimes(entry, cronToOnCalendar(cron, entry.timezone), after, 440)).toBeGreaterThan(
        0,
      );
    }
  });

  it('in a zone with daylight saving time: the same outside the skipped hour, pinned inside it', () => {
    const after = new Date('2026-03-20T00:00:00Z'); // Europe/Berlin springs forward on 2026-03-29
    for (const cron of ['35 5 * * *', '*/30 4-23 * * *']) {
      const entry: ScheduleEntry = { task: 'vk_fetch', cron, timezone: 'Europe/Berlin' };
      expectSameFireTimes(entry, cronToOnCalendar(cron, entry.timezone), after, 30);
    }
    // 02:30 does not exist on 2026-03-29 in Berlin: croner fires at the end of the gap (03:00
    // CEST), systemd skips the day. The known difference the module comment warns about.
    const entry: ScheduleEntry = { task: 'vk_fetch', cron: '30 2 * * *', timezone: 'Europe/Berlin' };
    const until = new Date('2026-03-31T00:00:00Z');
    const timer = timerElapses(cronToOnCalendar('30 2 * * *', entry.timezone), after, until, 11);
    const bot = botFireTimes(entry, after, until);
    const gapDay = Date.parse('2026-03-29T01:00:00Z');
    expect(bot).toContain(gapDay);
    expect(timer).toEqual(bot.filter((t) => t !== gapDay));
  });

  it('refuses what systemd cannot express, naming the field', () => {
    expect(() => cronToOnCalendar('0 6 15W * *', 'Europe/Moscow')).toThrow(CronNotExpressibleError);
    expect(() => cronToOnCalendar('0 6 LW * *', 'Europe/Moscow')).toThrow(/day-of-month.*nearest weekday/);
    expect(() => cronToOnCalendar('0 6 L * +1#1', 'Europe/Moscow')).toThrow(/day-of-week.*month length/);
    expect(() => cronToOnCalendar('0 6 1 * +1#2', 'Europe/Moscow')).toThrow(/share no day/);
    expect(() => cronToOnCalendar('0 6 * *', 'Europe/Moscow')).toThrow(/expected 5 fields/);
    expect(() => cronToOnCalendar('0 25 * * *', 'Europe/Moscow')).toThrow(/hour: "25": 25 is outside 0-23/);
  });
});

describe('etl systemd render', () => {
  it('--dir writes one drop-in per timer, each resetting OnCalendar first', async () => {
    const dir = tempDir('zakaz-etl-dropins-');
    const r = await runEtl(['systemd', 'render', '--dir', dir], testEnv(tempDir()));
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readdirSync(dir).sort()).toEqual([
      'etl-health.timer.d',
      'etl@build_dm_sales.timer.d',
      'etl@build_dm_vk.timer.d',
      'etl@qtickets_fetch.timer.d',
      'etl@vk_fetch.timer.d',
    ]);
    const text = fs.readFileSync(dropInOf(dir, 'vk_fetch'), 'utf8');
    expect(text).toMatch(/^# Rendered by "etl systemd render" from SCHEDULE_VK_FETCH="35 5 \* \* \*"/);
    expect(text).toContain('[Timer]\nOnCalendar=\nOnCalendar=*-*-* 05:35:00 Europe/Moscow\n');
    expect(fs.readFileSync(dropInOf(dir, 'healthcheck'), 'utf8')).toContain(
      'OnCalendar=*-*-* 06:30:00 Europe/Moscow\n',
    );
    expect(r.stdout).toContain(`wrote ${dropInOf(dir, 'vk_fetch')}: *-*-* 05:35:00 Europe/Moscow`);
    expect(r.stdout).toMatch(/systemctl daemon-reload/);
  });

  it('without --dir prints the drop-ins and writes nothing', async () => {
    const cwd = tempDir();
    const r = await runEtl(['systemd', 'render'], testEnv(cwd, { ETL_TIMEZONE: 'Asia/Yekaterinburg' }), cwd);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      '# etl@build_dm_sales.timer.d/10-schedule.conf\n# Rendered by "etl systemd render"',
    );
    expect(r.stdout).toContain('[Timer]\nOnCalendar=\nOnCalendar=*-*-* 06:05:00 Asia/Yekaterinburg\n');
    expect(fs.readdirSync(cwd).filter((f) => f.endsWith('.d'))).toEqual([]);
  });

  it('a task set to off gets no drop-in (an old one is removed) and the hint to disable its timer', async () => {
    const dir = await render({});
    expect(fs.existsSync(dropInOf(dir, 'healthcheck'))).toBe(true);
    const r = await runEtl(
      ['systemd', 'render', '--dir', dir],
      testEnv(tempDir(), { SCHEDULE_HEALTHCHECK: 'off' }),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(fs.existsSync(dropInOf(dir, 'healthcheck'))).toBe(false);
    expect(r.stdout).toContain(
      'healthcheck is off (SCHEDULE_HEALTHCHECK=off): no drop-in; disable its timer: systemctl disable --now etl-health.timer',
    );
    expect(fs.existsSync(dropInOf(dir, 'vk_fetch'))).toBe(true);
  });

  it('a cron without a systemd equivalent: exit 2, the variable named, nothing written', async () => {
    const dir = tempDir('zakaz-etl-dropins-');
    const r = await runEtl(
      ['systemd', 'render', '--dir', dir],
      testEnv(tempDir(), { SCHEDULE_BUILD_DM_VK: '0 6 15W * *' }),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^etl: SCHEDULE_BUILD_DM_VK: cannot express the cron "0 6 15W \* \*" as a systemd OnCalendar: day-of-month: .*nearest weekday/m,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('--dir must exist (a typo must not create a stray tree)', async () => {
    const dir = path.join(tempDir(), 'etc', 'systemd', 'sytem');
    const r = await runEtl(['systemd', 'render', '--dir', dir], testEnv(tempDir()));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--dir ${dir} is not an existing directory`);
    expect(fs.existsSync(dir)).toBe(false);
  });
});

/** The built entry point, relative to the install dir (package.json "bin"). */
function etlBin(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    bin: { etl: string };
  };
  return pkg.bin.etl;
}
