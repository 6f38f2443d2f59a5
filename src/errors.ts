/**
 * Error classes, one per failure mode. Each carries the data a caller needs to decide what to do
 * (exit code, upstream status, job) and keeps the original error as `cause`.
 *
 * Exit codes follow the CLI contract (DESIGN §9): 0 ok, 1 job or check failed, 2 usage or
 * configuration error, 75 busy (EX_TEMPFAIL: already running, or the embedded database is owned
 * by another process).
 */

/** Exit codes of the `etl` CLI. */
export const ExitCode = { ok: 0, failed: 1, usage: 2, busy: 75 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Base class: every error of this product knows the exit code it maps to. */
export class EtlError extends Error {
  readonly exitCode: ExitCode = ExitCode.failed;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad or missing configuration. `problems` lists one line per variable ("NAME: what is expected"). */
export class ConfigError extends EtlError {
  override readonly exitCode = ExitCode.usage;
  constructor(readonly problems: string[]) {
    super(`Configuration is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Bad command-line input (unknown job, impossible date, reversed window). Nothing was changed. */
export class UsageError extends EtlError {
  override readonly exitCode = ExitCode.usage;
}

/** The ClickHouse schema is older than this version (pending migrations). Run `etl migrate`. */
export class SchemaBehindError extends EtlError {
  override readonly exitCode = ExitCode.usage;
  constructor(readonly pending: string[]) {
    super(
      `the ClickHouse schema is behind this version (${pending.length} pending migration(s): ${pending.join(', ')}); run "etl migrate" first`,
    );
  }
}

/** A run of `job` is already in progress on this host (another process holds its lock). */
export class JobBusyError extends EtlError {
  override readonly exitCode = ExitCode.busy;
  constructor(
    readonly job: string,
    detail: string,
  ) {
    super(`${job} is already running ${detail}; nothing was started. Try again when it finishes.`);
  }
}

/** The embedded ClickHouse data directory is opened by another process and did not free up in time. */
export class DatabaseBusyError extends EtlError {
  override readonly exitCode = ExitCode.busy;
}

/** ClickHouse could not be reached or refused a statement. `code` is ClickHouse's numeric code as a string. */
export class DatabaseError extends EtlError {
  constructor(
    message: string,
    readonly code: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An upstream API (VK Ads, QTickets) answered with an error status that retries did not fix. */
export class UpstreamHttpError extends EtlError {
  constructor(
    readonly upstream: string,
    readonly status: number,
    readonly upstreamCode: string | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Credentials were refused by an upstream (401/403). Retrying cannot help; fix the credentials. */
export class UpstreamAuthError extends UpstreamHttpError {}

/** The upstream could not be reached at all (DNS, connection refused, TLS, timeout). */
export class UpstreamNetworkError extends EtlError {
  constructor(
    readonly upstream: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An upstream answered 2xx with a body that does not have the documented shape. */
export class UpstreamFormatError extends EtlError {
  constructor(
    readonly upstream: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A run exceeded its per-job timeout (`timeoutMs`) and was aborted. */
export class JobTimeoutError extends EtlError {
  constructor(
    readonly job: string,
    readonly timeoutMs: number,
  ) {
    super(
      `${job} exceeded its timeout of ${(timeoutMs / 1000).toFixed(timeoutMs < 10_000 ? 1 : 0)} s and was aborted`,
    );
  }
}

/** A run was cancelled on request (backfill cancel, shutdown). */
export class JobCancelledError extends EtlError {
  constructor(
    readonly job: string,
    reason: string,
  ) {
    super(`${job} was cancelled: ${reason}`);
  }
}

/**
 * Why the bot aborted a run when it stopped. `meta.etl_runs.err_msg` of such a run starts with
 * `<job> was cancelled: the bot stopped`: it raises no alert and does not take its schedule slot
 * (the restarted bot catches it up).
 */
export const SHUTDOWN_REASON = 'the bot stopped';

/** True when `errMsg` is that of a run the bot aborted when it stopped. */
export function isShutdownCancellation(job: string, errMsg: string): boolean {
  return errMsg.startsWith(`${job} was cancelled: ${SHUTDOWN_REASON}`);
}

/** Exit code for any thrown value; unknown errors are failures. */
export function exitCodeOf(error: unknown): ExitCode {
  return error instanceof EtlError ? error.exitCode : ExitCode.failed;
}
