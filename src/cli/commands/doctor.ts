/**
 * `etl doctor [--json]`: checks the setup (configuration, local state, ClickHouse and the
 * privileges the ETL needs, Telegram, upstream credentials, schedule) and prints what is wrong
 * and how to fix it. Exit 0 when nothing failed, 1 otherwise (also for a bad configuration,
 * which it lists instead of stopping at it).
 */
import { ConfigError, ExitCode } from '../../errors.js';
import { runDoctor, type DoctorCheck } from '../../doctor/doctor.js';
import type { CommandContext } from '../main.js';

const MARK: Record<DoctorCheck['status'], string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

/** Runs the checks. @returns 0 all passed (skips and warnings allowed), 1 something failed. */
export async function doctorCommand(ctx: CommandContext, opts: { json?: boolean }): Promise<number> {
  let checks: DoctorCheck[];
  try {
    const config = ctx.config();
    checks = await runDoctor({
      config,
      logger: ctx.logger(config),
      ...(ctx.io.signal ? { signal: ctx.io.signal } : {}),
    });
  } catch (error: unknown) {
    if (!(error instanceof ConfigError)) throw error;
    checks = error.problems.map((p) => ({
      area: 'config',
      status: 'fail' as const,
      detail: p,
      fix: 'fix the variable in the environment or .env (every variable is described in .env.example)',
    }));
  }
  const failed = checks.filter((c) => c.status === 'fail').length;
  if (opts.json) {
    ctx.out(JSON.stringify({ ok: failed === 0, checks }));
  } else {
    for (const c of checks) {
      ctx.out(`${MARK[c.status]}  ${c.area.padEnd(10)}  ${c.detail}`);
      if (c.fix && (c.status === 'fail' || c.status === 'warn'))
        ctx.out(`      ${''.padEnd(10)}  → ${c.fix}`);
    }
    ctx.out(failed === 0 ? 'doctor: all checks passed' : `doctor: ${failed} check(s) failed`);
  }
  return failed === 0 ? ExitCode.ok : ExitCode.failed;
}
