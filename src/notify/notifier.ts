/**
 * The notifier port: how alerts leave the process. The runner, jobs and alert rules never import
 * grammY; the Telegram implementation (`src/notify/telegram/`) and the terminal fallback
 * implement this.
 */

/**
 * One inline keyboard button: pressing it sends `callbackData` back to the bot as a callback
 * query. Source: https://core.telegram.org/bots/api#inlinekeyboardbutton
 */
export interface MessageButton {
  /** Label shown on the button; not empty. */
  text: string;
  /** Data sent back to the bot: 1–{@link CALLBACK_DATA_MAX_BYTES} bytes of UTF-8. */
  callbackData: string;
}

/** Telegram's limit of a button's `callback_data`, in bytes of UTF-8. */
export const CALLBACK_DATA_MAX_BYTES = 64;

/** A message to deliver. `html` uses Telegram's HTML subset with every dynamic value escaped. */
export interface OutgoingMessage {
  /** Full text; the notifier splits it under the channel's length limit on line boundaries. */
  html: string;
  /** Long raw text (e.g. a full error) attached as a `.txt` document instead of inlined. */
  attachment?: { filename: string; text: string } | undefined;
  /**
   * An inline keyboard, rows of buttons, attached to the last part of a split message (to the
   * document when the text is empty). Channels without buttons ignore it. Checked with
   * {@link assertButtons}. @default none
   */
  buttons?: MessageButton[][] | undefined;
}

/** A message already delivered, by the ids {@link Notifier.send} returned. */
export interface MessageTarget {
  /** Chat id as {@link Delivery.chatId} returned it. */
  chatId: string;
  /** One of {@link Delivery.messageIds}. */
  messageId: number;
}

/** The new content of an edited message. */
export interface EditedMessage {
  /** The whole new text in Telegram HTML; must fit one message (4096 characters after parsing). */
  html: string;
  /** The new inline keyboard; undefined or `[]` removes the buttons. */
  buttons?: MessageButton[][] | undefined;
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
   *         NotifierRejectedError when retrying cannot help (bot kicked, chat not found, bad token);
   *         RangeError before sending anything when `message.buttons` break
   *         {@link assertButtons} (a programming error).
   */
  send(message: OutgoingMessage, signal?: AbortSignal): Promise<Delivery>;
  /**
   * Replaces the text and the buttons of a message sent before (e.g. a failure alert that was
   * resolved). Optional: channels that cannot edit (the terminal) leave it out. Editing to the
   * content the message already has succeeds.
   * @throws NotifierUnavailableError when it may work later (as for `send`);
   *         NotifierRejectedError when it cannot (message deleted, text too long, bot kicked);
   *         RangeError before calling the channel when `message.buttons` break {@link assertButtons}.
   */
  edit?(target: MessageTarget, message: EditedMessage, signal?: AbortSignal): Promise<void>;
}

/**
 * Checks an inline keyboard against Telegram's rules: every button has a label and 1–64 bytes
 * of UTF-8 callback data.
 * @throws RangeError naming the button and echoing the bad value (a programming error: the
 *         caller built a keyboard Telegram would refuse with `BUTTON_DATA_INVALID`).
 * Source: https://core.telegram.org/bots/api#inlinekeyboardbutton
 */
export function assertButtons(buttons: readonly (readonly MessageButton[])[] | undefined): void {
  buttons?.forEach((row, r) =>
    row.forEach((button, c) => {
      const where = `inline button [${r}][${c}] ${JSON.stringify(button.text)}`;
      if (button.text.trim() === '') throw new RangeError(`notifier: ${where} has an empty label`);
      const bytes = Buffer.byteLength(button.callbackData, 'utf8');
      if (bytes < 1 || bytes > CALLBACK_DATA_MAX_BYTES) {
        throw new RangeError(
          `notifier: ${where} has callback data of ${bytes} bytes (${JSON.stringify(button.callbackData)}); Telegram accepts 1–${CALLBACK_DATA_MAX_BYTES} bytes of UTF-8`,
        );
      }
    }),
  );
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
