/**
 * `etl systemd render [--dir DIR]`: the schedule (SCHEDULE_*, ETL_TIMEZONE — the configuration
 * the bot's scheduler reads) as systemd timer drop-ins for the units in infra/systemd, so the
 * timers fire exactly when the bot would. Each enabled task gets `<timer>.d/10-schedule.conf`:
 *
 *   [Timer]
 *   OnCalendar=
 *   OnCalendar=*-*-* 05:35:00 Europe/Moscow
 *
 * The empty assignment clears whatever an earlier file set, and `systemctl edit <timer>` writes
 * `override.conf` into the same directory, read after this file, so a local override still wins
 * (it must start with its own empty `OnCalendar=`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { ExitCode, UsageError } from '../../errors.js';
import { scheduleFromConfig, type ScheduledTask } from '../../scheduler/schedule.js';
import { CronNotExpressibleError, cronToOnCalendar } from '../../scheduler/systemdCalendar.js';
import type { CommandContext } from '../main.js';

/** The drop-in's file name: sorts before `override.conf` (`systemctl edit`). */
const DROP_IN_NAME = '10-schedule.conf';

/** The timer unit that runs a task (infra/systemd). */
function timerUnitOf(task: ScheduledTask): string {
  return task === 'healthcheck' ? 'etl-health.timer' : `etl@${task}.timer`;
}

/** The variable that configures a task's schedule. */
function variableOf(task: ScheduledTask): string {
  return `SCHEDULE_${task.toUpperCase()}`;
}

/** One rendered drop-in, or a disabled task. */
interface Rendered {
  task: ScheduledTask;
  unit: string;
  /** Drop-in text; undefined when the task is `off`. */
  text: string | undefined;
  onCalendar: string[];
}

/**
 * Renders the drop-ins and prints them (no `--dir`), or writes them into `DIR/<timer>.d/`
 * (`--dir /etc/systemd/system` on a host), replacing earlier renders and removing the drop-in of
 * a task that is now `off`. Nothing is written unless every enabled task can be rendered.
 * @returns 0.
 * @throws UsageError (2) when a task's cron has no systemd equivalent (naming the variable) or
 *   `--dir` is not an existing directory; ConfigError (2) for a bad configuration.
 */
export function systemdRenderCommand(ctx: CommandContext, opts: { dir?: string }): number {
  const config = ctx.config();
  const rendered: Rendered[] = scheduleFromConfig(config).map((entry) => {
    const unit = timerUnitOf(entry.task);
    if (entry.cron === null) return { task: entry.task, unit, text: undefined, onCalendar: [] };
    let onCalendar: string[];
    try {
      onCalendar = cronToOnCalendar(entry.cron, entry.timezone);
    } catch (error: unknown) {
      if (!(error instanceof CronNotExpressibleError)) throw error;
      throw new UsageError(
        `${variableOf(entry.task)}: ${error.message}. Pick a schedule without it, or set it to "off" and leave this task to the bot.`,
        { cause: error },
      );
    }
    const text = [
      `# Rendered by "etl systemd render" from ${variableOf(entry.task)}="${entry.cron}"`,
      `# (ETL_TIMEZONE=${entry.timezone}), the setting the bot's scheduler reads: re-render, do not edit.`,
      `# A change on this host only: systemctl edit ${unit}, starting with "OnCalendar=".`,
      '[Timer]',
      'OnCalendar=',
      ...onCalendar.map((e) => `OnCalendar=${e}`),
      '',
    ].join('\n');
    return { task: entry.task, unit, text, onCalendar };
  });

  if (opts.dir === undefined) {
    // Everything but the drop-ins is a comment, so the output can be split into files as is.
    ctx.out(
      rendered
        .map((r) => (r.text === undefined ? `# ${offHint(r)}\n` : `# ${r.unit}.d/${DROP_IN_NAME}\n${r.text}`))
        .join('\n'),
    );
    return ExitCode.ok;
  }

  const dir = path.resolve(ctx.io.cwd, opts.dir);
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new UsageError(`--dir ${dir} is not an existing directory (on a host: /etc/systemd/system)`);
  }
  for (const r of rendered) {
    const file = path.join(dir, `${r.unit}.d`, DROP_IN_NAME);
    if (r.text === undefined) {
      const stale = fs.existsSync(file);
      if (stale) fs.rmSync(file);
      ctx.out(offHint(r) + (stale ? ` (removed ${file})` : ''));
      continue;
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // Write then rename: a daemon-reload meanwhile reads the old file or the new one, never half.
    const tmp = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, r.text, { mode: 0o644 });
    fs.renameSync(tmp, file);
    ctx.out(`wrote ${file}: ${r.onCalendar.join(' | ')}`);
  }
  ctx.out('then: systemctl daemon-reload (the timers pick up the new times; a running job is not touched)');
  return ExitCode.ok;
}

function offHint(r: Rendered): string {
  return `${r.task} is off (${variableOf(r.task)}=off): no drop-in; disable its timer: systemctl disable --now ${r.unit}`;
}
