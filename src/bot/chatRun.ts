/**
 * Starting a run from the chat (/run confirmation, an alert's Retry button): the run goes through
 * the tracker in the background — the update handler returns at once, so the chat stays
 * responsive — and its result is posted as a reply when it is recorded.
 */
import { formatBotDuration, usageText } from './texts.js';
import { ConfigError, JobBusyError, UsageError } from '../errors.js';
import { escapeHtml as h } from '../notify/html.js';
import type { RunRequest } from '../runner/runner.js';
import type { RunRecord } from '../runner/runRecord.js';
import { errorText, textsOf, type BotDeps } from './context.js';
import { ShuttingDownError } from './runTracker.js';

/** The result of a run as the chat reply (Telegram HTML). */
export function renderRunResult(r: RunRecord, deps: BotDeps): string {
  const { t } = textsOf(deps);
  const error = r.errMsg.length > 600 ? `${r.errMsg.slice(0, 599)}…` : r.errMsg;
  return t.runResult({
    job: r.job,
    ok: r.status === 'ok',
    from: r.fromDate,
    to: r.toDate,
    rowsRead: r.rowsRead,
    rowsWritten: r.rowsWritten,
    duration: formatBotDuration(r.durationMs, deps.config.telegram.language),
    runId: r.runId,
    error,
  });
}

/**
 * Why a run could not start, for the chat (Telegram HTML), or undefined for an unexpected error
 * (the caller logs it and answers with the generic failure text).
 */
export function refusalText(error: unknown, deps: BotDeps): string | undefined {
  const { t } = textsOf(deps);
  if (error instanceof JobBusyError) return t.busy(error.job);
  if (error instanceof ShuttingDownError) return t.shuttingDown;
  if (error instanceof UsageError) return `⚠️ ${h(usageText(error.message, deps.config.telegram.language))}`;
  if (error instanceof ConfigError) return `⚠️ ${h(error.problems.join('; '))}`;
  return undefined;
}

/** How a chat run request ended up: started, or refused with a message for the chat (HTML). */
export type ChatRunStart = { started: true; runId: string } | { started: false; html: string };

/**
 * Starts `request` in the background and, once it is recorded, posts its result to `chatId` (as a
 * reply to `replyTo` when given).
 * @returns as soon as the run really started (lock held) or was refused — the caller says so in
 *          the chat; a refusal is not posted again.
 */
export function startChatRun(
  deps: BotDeps,
  target: { chatId: number; replyTo?: number | undefined; threadId?: number | undefined },
  request: RunRequest,
): Promise<ChatRunStart> {
  const { t } = textsOf(deps);
  const post = (html: string) =>
    deps.api().sendMessage(target.chatId, html, {
      parse_mode: 'HTML',
      ...(target.threadId === undefined ? {} : { message_thread_id: target.threadId }),
      ...(target.replyTo === undefined
        ? {}
        : { reply_parameters: { message_id: target.replyTo, allow_sending_without_reply: true } }),
    });
  return new Promise<ChatRunStart>((resolve) => {
    let started = false;
    deps.background(
      deps.tracker
        .run({
          ...request,
          onStarted: (s) => {
            started = true;
            resolve({ started: true, runId: s.runId });
          },
        })
        .then(
          (record) => post(renderRunResult(record, deps)),
          async (error: unknown) => {
            const text = refusalText(error, deps);
            if (text === undefined) {
              deps.logger.error({ job: request.job, err: errorText(deps, error) }, 'chat run failed');
            }
            if (started) await post(text ?? t.error);
            else resolve({ started: false, html: text ?? t.error });
          },
        ),
    );
  });
}
