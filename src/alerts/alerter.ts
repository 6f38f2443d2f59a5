/**
 * The alerter: evaluates the rules after every run (whatever triggered it) and for the
 * healthcheck, dedups against `meta.etl_alerts`, and delivers through the notifier port with a
 * durable outbox in between. The same problem (code, job, data date, signature) is told once;
 * repeats raise a counter, and a reminder goes out after `ALERT_REMIND_AFTER_MS`; a failing job
 * that succeeds again resolves its RUN_FAILED alerts, edits their messages to say so (when the
 * notifier can edit) and tells RECOVERED. RUN_FAILED messages carry Retry and History buttons
 * (`alertButtons.ts`).
 */
import type { Logger } from 'pino';
import { isShutdownCancellation } from '../errors.js';
import type { Config } from '../config/loadConfig.js';
import type { Db } from '../clickhouse/db.js';
import { NotifierRejectedError, type Notifier, type OutgoingMessage } from '../notify/notifier.js';
import { STEP_JOBS } from '../runner/job.js';
import type { RunRecord } from '../runner/runRecord.js';
import { eachDay } from '../time/dates.js';
import { dedupKey, errorSignature, SEVERITY, type AlertCandidate, type AlertRecord } from './alert.js';
import { findOpenAlert, openAlertsOf, writeAlerts } from './alertStore.js';
import { findAnomalies, MART_CHECKS } from './anomaly.js';
import {
  claimAlert,
  pendingMessage,
  putOutbox,
  quarantineOutboxFile,
  readOutbox,
  removeOutbox,
  type OutboxEntry,
} from './outbox.js';
import { renderAlert, renderResolvedAlert } from './texts.js';
import { runFailedButtons } from './alertButtons.js';
import { randomUUID } from 'node:crypto';

/** Dependencies of the alerter. */
export interface AlerterDeps {
  db: Db;
  notifier: Notifier;
  config: Config;
  logger: Logger;
  /** unix ms. @default Date.now */
  now?: () => number;
}

/** The alerter API. None of its methods throws: failures are logged and kept in the outbox. */
export interface Alerter {
  /** Runner listener: RUN_FAILED, RECOVERED, ZERO_ROWS and ANOMALY for a finished run. */
  onRun(record: RunRecord): Promise<AlertRecord[]>;
  /** Dedups, stores and delivers candidates; returns the stored versions. */
  raise(candidates: AlertCandidate[]): Promise<AlertRecord[]>;
  /** Finishes what the outbox holds from earlier processes. @returns entries finished. */
  flushOutbox(): Promise<number>;
}

/** Creates an alerter. */
export function createAlerter(deps: AlerterDeps): Alerter {
  const { db, notifier, config, logger } = deps;
  const now = deps.now ?? Date.now;
  const lang = config.telegram.language;
  const stateDir = config.dataDir;

  const nextVersion = (previous?: AlertRecord) => Math.max(now(), (previous?.version ?? 0) + 1);
  const errText = (error: unknown) => (error instanceof Error ? error.message : String(error));

  /** The message of an alert; RUN_FAILED gets the Retry and History buttons. */
  function messageOf(
    alert: Pick<AlertRecord, 'alertId' | 'job' | 'code'>,
    rendered: ReturnType<typeof renderAlert>,
  ): OutgoingMessage {
    const buttons = alert.code === 'RUN_FAILED' ? runFailedButtons(alert, lang) : [];
    return {
      html: rendered.html,
      attachment: rendered.attachment,
      ...(buttons.length > 0 ? { buttons } : {}),
    };
  }

  /**
   * Sends an alert's message. Buttons the notifier refuses as malformed (a RangeError, a bug) are
   * dropped and the alert sent without them, rather than kept in the outbox for ever.
   */
  async function deliver(alertId: string, message: OutgoingMessage) {
    try {
      return await notifier.send(message);
    } catch (error: unknown) {
      if (!(error instanceof RangeError) || message.buttons === undefined) throw error;
      logger.error({ alertId, err: error.message }, 'alert buttons refused; sending the alert without them');
      return notifier.send({ ...message, buttons: undefined });
    }
  }

  /**
   * Edits the message of a just-resolved alert to say which run resolved it and after how long,
   * without buttons. Best effort: alerts never delivered to a chat (pending, terminal) are
   * skipped, and a failure is only logged, so the RECOVERED message still goes out.
   */
  async function markResolved(alert: AlertRecord, run: RunRecord): Promise<void> {
    if (!notifier.edit || alert.messageId === null || alert.chatId === '' || alert.resolvedAt === null)
      return;
    const target = { chatId: alert.chatId, messageId: alert.messageId };
    try {
      const html = renderResolvedAlert(
        alert,
        { runId: run.runId, trigger: run.trigger, resolvedAt: alert.resolvedAt },
        lang,
        config.timezone,
      );
      await notifier.edit(target, { html });
    } catch (error: unknown) {
      logger.warn(
        { alertId: alert.alertId, ...target, runId: run.runId, err: errText(error) },
        `could not mark the resolved alert in its ${notifier.channel} message; RECOVERED is still sent`,
      );
    }
  }

  /**
   * Delivers (if needed) and stores one entry; keeps it in the outbox until both are done. The
   * alert is claimed first, so two processes never deliver it both. Returns undefined when
   * another process holds the claim (it finishes the alert).
   */
  async function settle(entry: OutboxEntry): Promise<OutboxEntry | undefined> {
    const release = await claimAlert(stateDir, entry.record.alertId);
    if (!release) return undefined;
    try {
      return await settleClaimed(entry);
    } finally {
      await release().catch(() => undefined);
    }
  }

  async function settleClaimed(entry: OutboxEntry): Promise<OutboxEntry> {
    // A newer version (a repeat, a resolution) must not drop a message still waiting for delivery.
    if (!entry.message) entry = { ...entry, message: pendingMessage(stateDir, entry.record.alertId) };
    putOutbox(stateDir, entry);
    // A failure resolved before its message went out: Retry and History no longer apply.
    if (entry.record.resolvedAt !== null && entry.message?.buttons !== undefined) {
      entry = { ...entry, message: { ...entry.message, buttons: undefined } };
    }
    if (entry.message) {
      try {
        const delivery = await deliver(entry.record.alertId, entry.message);
        entry = {
          record: {
            ...entry.record,
            deliveryState: notifier.channel === 'terminal' ? 'printed' : 'delivered',
            deliveryError: '',
            chatId: delivery.chatId,
            messageId: entry.record.messageId ?? delivery.messageIds[0] ?? null,
            notifiedAt: Math.floor(now() / 1000),
            version: nextVersion(entry.record),
          },
          message: undefined,
        };
      } catch (error: unknown) {
        if (error instanceof NotifierRejectedError) {
          logger.error(
            { alertId: entry.record.alertId, reason: error.reason },
            `alert refused by ${notifier.channel}: ${error.message}`,
          );
          entry = {
            record: {
              ...entry.record,
              deliveryState: 'rejected',
              deliveryError: error.reason,
              version: nextVersion(entry.record),
            },
            message: undefined,
          };
        } else {
          logger.warn(
            { alertId: entry.record.alertId, err: error instanceof Error ? error.message : String(error) },
            'alert not delivered yet; it stays in the outbox for the next start',
          );
        }
      }
      putOutbox(stateDir, entry);
    }
    try {
      await writeAlerts(db.control, [entry.record]);
      if (!entry.message) removeOutbox(stateDir, entry.record.alertId);
    } catch (error: unknown) {
      logger.warn(
        { alertId: entry.record.alertId, err: error instanceof Error ? error.message : String(error) },
        'alert not stored yet; it stays in the outbox for the next start',
      );
    }
    return entry;
  }

  async function raiseOne(c: AlertCandidate): Promise<AlertRecord> {
    const key = dedupKey(c);
    const nowS = Math.floor(now() / 1000);
    let existing: AlertRecord | undefined;
    try {
      existing = await findOpenAlert(db.control, key);
    } catch (error: unknown) {
      // ClickHouse is down: tell it anyway (an extra message beats a lost one).
      logger.warn(
        { key, err: error instanceof Error ? error.message : String(error) },
        'alert dedup unavailable',
      );
    }
    if (existing) {
      const occurrences = existing.occurrences + 1;
      const due =
        existing.notifiedAt === null || now() - existing.notifiedAt * 1000 >= config.alerts.remindAfterMs;
      const record: AlertRecord = {
        ...existing,
        occurrences,
        lastSeen: nowS,
        version: nextVersion(existing),
      };
      const message = due ? messageOf(record, renderAlert(c, lang, config.timezone, occurrences)) : undefined;
      return (await settle({ record, message }))?.record ?? record;
    }
    const rendered = renderAlert(c, lang, config.timezone);
    const record: AlertRecord = {
      alertId: randomUUID(),
      ts: nowS,
      severity: SEVERITY[c.code],
      job: c.job,
      code: c.code,
      message: rendered.text,
      contextJson: JSON.stringify({ ...c.facts, signature: c.signature }),
      dedupKey: key,
      runId: c.runId,
      dataDate: c.dataDate,
      occurrences: 1,
      lastSeen: nowS,
      deliveryState: 'pending',
      deliveryError: '',
      notifiedAt: null,
      chatId: '',
      messageId: null,
      resolvedAt: null,
      resolvedByRunId: null,
      version: now(),
    };
    const settled = await settle({ record, message: messageOf(record, rendered) });
    return settled?.record ?? record;
  }

  async function raise(candidates: AlertCandidate[]): Promise<AlertRecord[]> {
    const out: AlertRecord[] = [];
    for (const c of candidates) {
      try {
        out.push(await raiseOne(c));
      } catch (error: unknown) {
        logger.error(
          { code: c.code, job: c.job, err: error instanceof Error ? error.message : String(error) },
          'alert failed',
        );
      }
    }
    return out;
  }

  async function rules(record: RunRecord): Promise<AlertCandidate[]> {
    const window = { fromDate: record.fromDate, toDate: record.toDate };
    const base = { job: record.job, runId: record.runId, dataDate: record.toDate };
    const facts = { window, runStartedAt: record.startedAt, runFinishedAt: record.finishedAt };
    if (record.status === 'error') {
      // A backfill that stopped at a failed step: the step's own alert says it.
      if (record.job === 'backfill_all' && /^step \d+\/\d+ /.test(record.errMsg)) return [];
      // A backfill stopped by a person (the chat's Stop button) did what was asked: not a failure.
      if (record.job === 'backfill_all' && STOPPED_ON_REQUEST.test(record.errMsg)) return [];
      // Aborted because the bot was stopped (a deploy, a restart): the restart catches the slot up;
      // paging the team for every restart during a run would teach them to ignore RUN_FAILED.
      if (isShutdownCancellation(record.job, record.errMsg)) return [];
      return [
        {
          ...base,
          code: 'RUN_FAILED',
          signature: errorSignature(record.errMsg),
          facts: { ...facts, errMsg: record.errDetail ?? record.errMsg },
        },
      ];
    }
    const out: AlertCandidate[] = [];
    // A success resolves the failures whose data date it reloaded (daily windows overlap, so
    // the next day's run covers yesterday's failed day; a run of an unrelated day does not).
    const failing = (await openAlertsOf(db.control, record.job, ['RUN_FAILED'])).filter(
      (a) => a.dataDate === null || (a.dataDate >= record.fromDate && a.dataDate <= record.toDate),
    );
    if (failing.length > 0) {
      const resolvedAt = Math.floor(now() / 1000);
      for (const alert of failing) {
        const settled = await settle({
          record: { ...alert, resolvedAt, resolvedByRunId: record.runId, version: nextVersion(alert) },
          message: undefined,
        });
        // Once, here: a later flush of the outbox settles the entry again but does not edit.
        if (settled) await markResolved(settled.record, record);
      }
      out.push({
        ...base,
        code: 'RECOVERED',
        signature: record.runId,
        facts: {
          ...facts,
          failingSince: Math.min(...failing.map((a) => a.ts)),
          resolvedAlertIds: failing.map((a) => a.alertId),
        },
      });
    }
    if ((STEP_JOBS as readonly string[]).includes(record.job) && record.rowsWritten === 0) {
      // A backfill's empty chunks are one problem of that backfill, not one alert per chunk.
      const inBackfill = record.parentRunId !== null;
      out.push({
        ...base,
        ...(inBackfill ? { dataDate: null } : {}),
        code: 'ZERO_ROWS',
        // The same signature as the healthcheck's: a missing day is one problem, however found.
        signature: inBackfill
          ? `backfill ${record.parentRunId} ${TARGET_TABLE[record.job] ?? record.job}`
          : (TARGET_TABLE[record.job] ?? record.job),
        facts: { ...facts, rowsWritten: 0, table: TARGET_TABLE[record.job] },
      });
    }
    const check = MART_CHECKS.find((m) => m.job === record.job);
    if (check) {
      const anomalies = await findAnomalies(db.control, check, window, config.alerts);
      for (const day of eachDay(window)) {
        const findings = anomalies.get(day);
        if (findings) {
          out.push({
            ...base,
            dataDate: day,
            code: 'ANOMALY',
            signature: 'mart',
            facts: { ...facts, window: { fromDate: day, toDate: day }, table: check.table, findings },
          });
        }
      }
    }
    return out;
  }

  return {
    async onRun(record) {
      try {
        return await raise(await rules(record));
      } catch (error: unknown) {
        logger.error(
          { runId: record.runId, err: error instanceof Error ? error.message : String(error) },
          'alert rules failed',
        );
        // The failure itself must still be told.
        return record.status === 'error'
          ? raise([
              {
                code: 'RUN_FAILED',
                job: record.job,
                runId: record.runId,
                dataDate: record.toDate,
                signature: errorSignature(record.errMsg),
                facts: {
                  window: { fromDate: record.fromDate, toDate: record.toDate },
                  runStartedAt: record.startedAt,
                  errMsg: record.errDetail ?? record.errMsg,
                },
              },
            ])
          : [];
      }
    },
    raise,
    async flushOutbox() {
      let done = 0;
      const { entries, broken } = readOutbox(stateDir);
      for (const file of broken) {
        logger.error({ file }, 'unreadable alert outbox file moved aside (.broken); inspect it by hand');
        quarantineOutboxFile(file);
      }
      for (const entry of entries) {
        try {
          const settled = await settle(entry);
          if (settled && !settled.message) done++;
        } catch (error: unknown) {
          logger.error(
            { alertId: entry.record.alertId, err: error instanceof Error ? error.message : String(error) },
            'outbox entry failed',
          );
        }
      }
      return done;
    },
  };
}

/** err_msg of a backfill stopped after a step on request (jobs/backfill_all.ts). */
const STOPPED_ON_REQUEST = /^backfill_all was cancelled: stopped on request after \d+ of \d+ steps/;

const TARGET_TABLE: Record<string, string> = {
  vk_fetch: 'zakaz.stg_vk_ads_daily',
  qtickets_fetch: 'zakaz.stg_qtickets_sales',
  build_dm_vk: 'zakaz.dm_vk_ads_daily',
  build_dm_sales: 'zakaz.dm_sales_daily',
};
