/**
 * A Notifier that keeps what it was asked to deliver, for tests of the alert logic (Telegram
 * delivery itself is tested against the local Bot API server). It can be switched to fail like
 * an unreachable or refusing channel.
 */
import {
  NotifierRejectedError,
  NotifierUnavailableError,
  type Delivery,
  type Notifier,
  type OutgoingMessage,
} from '../../src/notify/notifier.js';

export interface RecordingNotifier extends Notifier {
  sent: OutgoingMessage[];
  mode: 'ok' | 'unavailable' | 'rejected';
}

export function createRecordingNotifier(): RecordingNotifier {
  let nextId = 100;
  const n: RecordingNotifier = {
    channel: 'telegram',
    sent: [],
    mode: 'ok',
    send(message: OutgoingMessage): Promise<Delivery> {
      if (n.mode === 'unavailable')
        return Promise.reject(new NotifierUnavailableError('connect ECONNREFUSED'));
      if (n.mode === 'rejected') {
        return Promise.reject(
          new NotifierRejectedError('bot removed', 'Forbidden: bot was kicked from the group chat'),
        );
      }
      n.sent.push(message);
      return Promise.resolve({ chatId: '-100500', messageIds: [nextId++] });
    },
  };
  return n;
}
