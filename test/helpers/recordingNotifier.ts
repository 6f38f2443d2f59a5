/**
 * A Notifier that keeps what it was asked to deliver and to edit, for tests of the alert logic
 * (Telegram delivery itself is tested against the local Bot API server). It can be switched to
 * fail like an unreachable or refusing channel; `editMode` does the same for edits only.
 */
import {
  NotifierRejectedError,
  NotifierUnavailableError,
  type Delivery,
  type EditedMessage,
  type MessageTarget,
  type Notifier,
  type OutgoingMessage,
} from '../../src/notify/notifier.js';

export interface RecordingNotifier extends Notifier {
  sent: OutgoingMessage[];
  /** Edits asked for, in order (also the failed ones). */
  edits: Array<{ target: MessageTarget; message: EditedMessage }>;
  mode: 'ok' | 'unavailable' | 'rejected';
  /** @default 'ok'; edits also fail while `mode` does. */
  editMode: 'ok' | 'unavailable' | 'rejected';
}

function failure(mode: 'ok' | 'unavailable' | 'rejected'): Error | undefined {
  if (mode === 'unavailable') return new NotifierUnavailableError('connect ECONNREFUSED');
  if (mode === 'rejected') {
    return new NotifierRejectedError('bot removed', 'Forbidden: bot was kicked from the group chat');
  }
  return undefined;
}

export function createRecordingNotifier(): RecordingNotifier {
  let nextId = 100;
  const n: RecordingNotifier = {
    channel: 'telegram',
    sent: [],
    edits: [],
    mode: 'ok',
    editMode: 'ok',
    send(message: OutgoingMessage): Promise<Delivery> {
      const error = failure(n.mode);
      if (error) return Promise.reject(error);
      n.sent.push(message);
      return Promise.resolve({ chatId: '-100500', messageIds: [nextId++] });
    },
    edit(target: MessageTarget, message: EditedMessage): Promise<void> {
      n.edits.push({ target, message });
      const error = failure(n.mode) ?? failure(n.editMode);
      return error ? Promise.reject(error) : Promise.resolve();
    },
  };
  return n;
}
