/**
 * The notifier port: how alerts leave the process. The runner, jobs and alert rules never import
 * grammY; the Telegram implementation (`src/notify/telegram/`) and the terminal fallback
 * implement this.
 */

/** A message to deliver. `html` uses Telegram's HTML subset with every dynamic value escaped. */
export interface OutgoingMessage {
  /** Full text; the notifier splits it under the channel's length limit on line boundaries. */
  html: string;
  /** Long raw text (e.g. a full error) attached as a `.txt` document instead of inlined. */
  attachment?: { filename: string; text: string } | undefined;
}

/** Where a message went. */
export interface Delivery {
  /** The chat it was delivered to (after following a group → supergroup migration). */
  chatId: string;
  /** Telegram message ids of the parts, in order (the first one is the alert's message). */
  messageIds: number[];
}

/** Delivers messages. */
export interface Notifier {
  /** `telegram` or `terminal`, for logs and `meta.etl_alerts.delivery_channel`. */
  readonly channel: string;
  /**
   * Delivers one message.
   * @throws NotifierUnavailableError when it may work later (network down, 5xx, 429 past the
   *         retry budget): the alert stays in the outbox;
   *         NotifierRejectedError when retrying cannot help (bot kicked, chat not found, bad token).
   */
  send(message: OutgoingMessage, signal?: AbortSignal): Promise<Delivery>;
}

/** The channel is unreachable for now; try again later. */
export class NotifierUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NotifierUnavailableError';
  }
}

/** The channel refused the message for good (with its reason, e.g. Telegram's description). */
export class NotifierRejectedError extends Error {
  constructor(
    message: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'NotifierRejectedError';
  }
}
