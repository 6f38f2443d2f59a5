/**
 * The inline buttons under a RUN_FAILED alert and their callback data, which the bot routes:
 * `al:retry:<alertId>` (run the failed job again; the bot lets only `TG_ADMIN_USER_IDS` do it)
 * and `al:hist:<job>` (the job's recent runs). Callback data is at most 64 bytes of UTF-8
 * (Telegram's limit), so it carries ids, never the alert itself.
 * Source: https://core.telegram.org/bots/api#inlinekeyboardbutton
 */
import { CALLBACK_DATA_MAX_BYTES, type MessageButton } from '../notify/notifier.js';
import type { Language } from './texts.js';

/** Prefix of every alert button's callback data: the bot's router matches on it. */
export const ALERT_CALLBACK_PREFIX = 'al:';
/** Callback data prefix of the Retry button; the alert id follows. */
export const RETRY_CALLBACK_PREFIX = 'al:retry:';
/** Callback data prefix of the History button; the job name follows. */
export const HISTORY_CALLBACK_PREFIX = 'al:hist:';

/** What an alert button asks for, parsed from its callback data by {@link parseAlertCallback}. */
export type AlertCallback =
  /** Run the job of alert `alertId` (a `meta.etl_alerts.alert_id`) again over its window. */
  | { action: 'retry'; alertId: string }
  /** Show the recent runs of `job` (a job name as in `meta.etl_runs.job`). */
  | { action: 'hist'; job: string };

const LABELS = {
  ru: { retry: 'Повторить', hist: 'История' },
  en: { retry: 'Retry', hist: 'History' },
} as const satisfies Record<Language, Record<AlertCallback['action'], string>>;

const ALERT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Job names are identifiers (`vk_fetch`, `build_dm_sales`). */
const JOB = /^[A-Za-z0-9_.-]+$/;

function fits(data: string): boolean {
  return Buffer.byteLength(data, 'utf8') <= CALLBACK_DATA_MAX_BYTES;
}

function checked(data: string, what: string): string {
  if (!fits(data)) {
    throw new RangeError(
      `alert buttons: the callback data of ${what} is ${Buffer.byteLength(data, 'utf8')} bytes (${JSON.stringify(data)}); Telegram accepts at most ${CALLBACK_DATA_MAX_BYTES}`,
    );
  }
  return data;
}

/**
 * Callback data of the Retry button: `al:retry:<alertId>` (45 bytes for a UUID).
 * @throws RangeError when it exceeds 64 bytes of UTF-8 (an alert id that is not a UUID).
 */
export function retryCallbackData(alertId: string): string {
  return checked(`${RETRY_CALLBACK_PREFIX}${alertId}`, `the Retry button of alert ${alertId}`);
}

/**
 * Callback data of the History button: `al:hist:<job>`.
 * @throws RangeError when it exceeds 64 bytes of UTF-8 (a job name over 56 bytes).
 */
export function historyCallbackData(job: string): string {
  return checked(`${HISTORY_CALLBACK_PREFIX}${job}`, `the History button of job ${job}`);
}

/**
 * Reads the callback data of an alert button.
 * @returns the action, or undefined when `data` is not an alert button's (another prefix, an
 *          alert id that is not a UUID, an empty job): the caller answers it as unknown.
 */
export function parseAlertCallback(data: string): AlertCallback | undefined {
  if (data.startsWith(RETRY_CALLBACK_PREFIX)) {
    const alertId = data.slice(RETRY_CALLBACK_PREFIX.length);
    return ALERT_ID.test(alertId) ? { action: 'retry', alertId: alertId.toLowerCase() } : undefined;
  }
  if (data.startsWith(HISTORY_CALLBACK_PREFIX)) {
    const job = data.slice(HISTORY_CALLBACK_PREFIX.length);
    return JOB.test(job) ? { action: 'hist', job } : undefined;
  }
  return undefined;
}

/**
 * The one row of buttons under a RUN_FAILED alert: Retry (`al:retry:<alertId>`) and History
 * (`al:hist:<job>`), labelled in `lang` (ru «Повторить», «История»; en "Retry", "History"). A
 * button whose data would not fit 64 bytes, or that {@link parseAlertCallback} would not read
 * back, is left out rather than failing the alert; no row at all when neither is left.
 */
export function runFailedButtons(alert: { alertId: string; job: string }, lang: Language): MessageButton[][] {
  const row: MessageButton[] = [];
  const retry = `${RETRY_CALLBACK_PREFIX}${alert.alertId}`;
  const hist = `${HISTORY_CALLBACK_PREFIX}${alert.job}`;
  if (fits(retry) && parseAlertCallback(retry)) row.push({ text: LABELS[lang].retry, callbackData: retry });
  if (fits(hist) && parseAlertCallback(hist)) row.push({ text: LABELS[lang].hist, callbackData: hist });
  return row.length > 0 ? [row] : [];
}
