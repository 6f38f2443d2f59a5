/**
 * The `etl` command line: parses arguments (commander), loads the configuration once, and maps
 * every outcome to the documented exit codes — 0 ok, 1 job or check failed, 2 usage or
 * configuration error, 75 busy. Errors are printed as one clear message, never a stack trace
 * (the stack is logged at debug level).
 */
import { Command, CommanderError, Option } from 'commander';
import { prepareLocalDirs } from '../app/localDirs.js';
import { createNotifier } from '../app/notifier.js';
import type { Notifier } from '../notify/notifier.js';
import { loadConfig, type Config } from '../config/loadConfig.js';
import { EtlError, ExitCode, exitCodeOf } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';
import { STEP_JOBS } from '../runner/job.js';
import { readEnvironment } from './environment.js';
import { backfillCommand, type BackfillOpts } from './commands/backfill.js';
import { demoCommand } from './commands/demo.js';
import { healthCommand } from './commands/health.js';
import { historyCommand } from './commands/history.js';
import { botCommand } from './commands/bot.js';
import { doctorCommand } from './commands/doctor.js';
import { rollbackCommand } from './commands/rollback.js';
import { notifyCommand } from './commands/notify.js';
import { migrateCommand } from './commands/migrate.js';
import { runCommand } from './commands/run.js';
import { scheduleCommand } from './commands/schedule.js';
import { systemdRenderCommand } from './commands/systemd.js';

/** Where the CLI reads and writes; injected so tests can run it in-process. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Whether stderr is a terminal (progress bars only there). */
  isTTY: boolean;
  /**
   * Aborted on SIGTERM/SIGINT: a running job stops, and its run is recorded as an error saying
   * so (systemd's stop, Ctrl-C).
   */
  signal?: AbortSignal;
}

/** What every command receives. */
export interface CommandContext {
  io: CliIo;
  /** Loads and validates the configuration (once); `overrides` win over the environment. */
  config(overrides?: Record<string, string>): Config;
  logger(config: Config): Logger;
  /** Where alerts go: Telegram when configured, else printed to this command's stderr. */
  notifier(config: Config, logger: Logger): Notifier;
  out(text: string): void;
}

const JOB_LIST = 'vk_fetch, qtickets_fetch, build_dm_vk, build_dm_sales, backfill_all';

/**
 * Runs the CLI with `argv` (without the node and script paths).
 * @returns the exit code.
 */
export async function main(argv: string[], io: CliIo): Promise<number> {
  let exitCode: number = ExitCode.ok;
  let cachedConfig: Config | undefined;
  const ctx: CommandContext = {
    io,
    config(overrides = {}) {
      if (cachedConfig === undefined) {
        cachedConfig = loadConfig({ ...readEnvironment(io.cwd, io.env), ...overrides }, io.cwd);
        prepareLocalDirs(cachedConfig);
      }
      return cachedConfig;
    },
    // A person at a terminal sees the command's own output; JSON info logs are for journald and
    // CI. LOG_LEVEL, when set, always wins.
    logger: (config) =>
      createLogger(
        !readEnvironment(io.cwd, io.env).LOG_LEVEL && io.isTTY ? 'warn' : config.logLevel,
        io.stderr,
      ),
    notifier: (config, logger) => createNotifier(config, logger, (text) => io.stderr.write(text)),
    out: (text) => io.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  };
  const setExit = (code: number) => {
    exitCode = code;
  };

  const program = new Command('etl')
    .description('zakaz-etl: run, backfill and inspect the Zakaz ETL (VK Ads, QTickets → ClickHouse)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('run')
    .description(`run one job over its window and record it in meta.etl_runs (jobs: ${JOB_LIST})`)
    .argument('<job>', 'job identifier')
    .option(
      '--from <date>',
      'first MSK day, YYYY-MM-DD (default: the first of the last ETL_WINDOW_DAYS=3 days)',
    )
    .option('--to <date>', 'last MSK day, YYYY-MM-DD (default: yesterday)')
    .addOption(new Option('--trigger <trigger>', 'what started the run').choices(['cli', 'schedule', 'ci']))
    .option('--actor <name>', 'who started it (default: $GITHUB_ACTOR or $USER)')
    .action(async (job: string, opts: { from?: string; to?: string; trigger?: string; actor?: string }) =>
      setExit(await runCommand(ctx, job, opts)),
    );

  program
    .command('backfill')
    .description(
      'run the fetch and build jobs over a range in chunks, with progress; one backfill_all parent run',
    )
    .requiredOption('--from <date>', 'first MSK day, YYYY-MM-DD (required)')
    .requiredOption('--to <date>', 'last MSK day, YYYY-MM-DD (required)')
    .option('--jobs <list>', `comma-separated subset of ${STEP_JOBS.join(',')} (default: all four)`)
    .option('--chunk-days <n>', 'days per step (default: ETL_BACKFILL_CHUNK_DAYS, 7)')
    .option('--dry-run', 'show the steps and the rows they would replace, run nothing')
    .addOption(new Option('--trigger <trigger>', 'what started the run').choices(['cli', 'schedule', 'ci']))
    .option('--actor <name>', 'who started it')
    .action(async (opts: BackfillOpts) => setExit(await backfillCommand(ctx, opts)));

  program
    .command('history')
    .description('the latest runs from meta.etl_runs, newest first')
    .option('--job <job>', 'only this job')
    .option('--limit <n>', 'how many runs (1-1000)', '20')
    .option('--json', 'print JSON lines instead of a table')
    .action(async (opts: { job?: string; limit: string; json?: boolean }) =>
      setExit(await historyCommand(ctx, opts)),
    );

  program
    .command('health')
    .description(
      'the healthcheck for the MSK yesterday: mart and staging rows, anomalies, latest runs (exit 0 ok, 1 failed)',
    )
    .option('--date <date>', 'check this MSK day instead of yesterday, YYYY-MM-DD')
    .option('--json', 'print the report as JSON')
    .option('--notify', 'raise alerts for the failed checks (deduplicated like every alert)')
    .action(async (opts: { date?: string; json?: boolean; notify?: boolean }) =>
      setExit(await healthCommand(ctx, opts)),
    );

  program
    .command('notify')
    .description(
      'send a text to the team chat (TG_BOT_TOKEN, TG_CHAT_ID); exit 0 delivered, 1 not, 2 not configured',
    )
    .argument('<text>', 'the message (sent as plain text)')
    .action(async (text: string) => setExit(await notifyCommand(ctx, text)));

  program
    .command('schedule')
    .description('the schedule of the daily jobs and the healthcheck (SCHEDULE_*), with the next fire times')
    .option('--count <n>', 'fire times per task', '3')
    .action((opts: { count: string }) => setExit(scheduleCommand(ctx, opts)));

  program
    .command('systemd')
    .description('systemd timers for the schedule (infra/systemd)')
    .command('render')
    .description(
      'the SCHEDULE_* times as timer drop-ins <timer>.d/10-schedule.conf (OnCalendar in ETL_TIMEZONE); printed, or written into --dir',
    )
    .option('--dir <dir>', 'write them here, e.g. /etc/systemd/system (default: print only)')
    .action((opts: { dir?: string }) => setExit(systemdRenderCommand(ctx, opts)));

  program
    .command('bot')
    .description(
      'the ChatOps bot: Telegram long polling, the schedule (SCHEDULE_*) and the runners in one process; SIGTERM stops it gracefully',
    )
    .action(async () => setExit(await botCommand(ctx)));

  program
    .command('doctor')
    .description(
      'check the setup: configuration, state dir, ClickHouse and the grants the ETL needs, Telegram token and chat, upstream credentials, schedule (exit 0 ok, 1 a check failed)',
    )
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => setExit(await doctorCommand(ctx, opts)));

  program
    .command('rollback')
    .description(
      "drop zakaz-etl's own ClickHouse objects (sql/rollback.sql: database meta — run registry, alerts, views); the zakaz data stays. Asks for confirmation",
    )
    .option('--yes', 'do not ask (for scripts)')
    .option('--dry-run', 'print the statements, change nothing')
    .action(async (opts: { yes?: boolean; dryRun?: boolean }) => setExit(await rollbackCommand(ctx, opts)));

  program
    .command('migrate')
    .description('apply pending schema migrations (sql/migrations); re-running is a no-op')
    .action(async () => setExit(await migrateCommand(ctx)));

  program
    .command('demo')
    .description(
      'newcomer demo: embedded ClickHouse under ./data/demo, local sandbox VK Ads and QTickets servers, a backfill with progress, then history and mart totals',
    )
    .option('--days <n>', 'days to backfill, up to yesterday', '30')
    .option('--anomalies', 'plant a mass-refund day and a VK spend spike, to see the alerts')
    .action(async (opts: { days: string; anomalies?: boolean }) => setExit(await demoCommand(ctx, opts)));

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error: unknown) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.exitCode === 0
        ? ExitCode.ok
        : ExitCode.usage;
    }
    return reportError(error, io, cachedConfig);
  }
}

function reportError(error: unknown, io: CliIo, config: Config | undefined): number {
  if (error instanceof EtlError) {
    io.stderr.write(`etl: ${error.message}\n`);
  } else {
    io.stderr.write(`etl: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`);
    if (config?.logLevel === 'debug' || config?.logLevel === 'trace') {
      io.stderr.write(`${error instanceof Error ? (error.stack ?? '') : ''}\n`);
    }
  }
  return exitCodeOf(error);
}
