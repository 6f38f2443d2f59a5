/**
 * Splitting a long Telegram HTML message into parts that each fit one message and each parse on
 * their own. Source of the limit: https://core.telegram.org/bots/api#sendmessage (1–4096
 * characters of text after entity parsing).
 */
import { tokenizeHtml, type HtmlToken } from '../html.js';

/** Telegram's limit for one message's text, in UTF-16 code units after entity parsing. */
export const TELEGRAM_TEXT_LIMIT = 4096;

interface OpenTag {
  name: string;
  raw: string;
}

interface Cut {
  /** Index of the first token of the next part. */
  at: number;
  /** Tags open at that point. */
  stack: readonly OpenTag[];
}

function closers(stack: readonly OpenTag[]): string {
  let out = '';
  for (let k = stack.length - 1; k >= 0; k--) out += `</${(stack[k] as OpenTag).name}>`;
  return out;
}

function apply(stack: readonly OpenTag[], token: HtmlToken): readonly OpenTag[] {
  if (token.kind === 'open') return [...stack, { name: token.name, raw: token.raw }];
  if (token.kind === 'close') {
    // Lenient on bad input: an end tag that does not close the innermost tag closes nothing.
    const top = stack[stack.length - 1];
    if (top?.name === token.name) return stack.slice(0, -1);
  }
  return stack;
}

/**
 * Splits Telegram HTML into parts of at most `limit` characters, keeping the markup valid in
 * every part: tags open at a cut are closed at the end of the part and reopened (with their
 * attributes) at the start of the next. Cuts go after a line break when the part has one, else
 * after a space in the second half of the part, else between any two characters, never inside a
 * tag, a character entity or a surrogate pair; a start tag right before a cut moves to the next
 * part. Length is the raw string length including markup (`String.length`, UTF-16 code units),
 * which is never less than what Telegram counts after parsing, so every part fits.
 * The visible text of the parts, concatenated, equals that of the input; a part may consist of
 * whitespace only when the input has long runs of it.
 * @param html valid Telegram HTML (invalid markup is passed through, not repaired).
 * @param limit maximum part length, characters. @default 4096
 * @returns the parts in order; `[]` for `''`; `[html]` when it already fits.
 * @throws RangeError when `limit` is not a positive integer, or when the tags open at some point
 *         (reopened plus closed) leave no room for one more character within `limit`.
 * Source: https://core.telegram.org/bots/api#formatting-options
 */
export function splitHtml(html: string, limit: number = TELEGRAM_TEXT_LIMIT): string[] {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`splitHtml: limit must be a positive integer, got ${limit}`);
  }
  if (html === '') return [];
  if (html.length <= limit) return [html];
  const tokens = tokenizeHtml(html);
  const parts: string[] = [];
  let start = 0;
  let stack: readonly OpenTag[] = [];
  while (start < tokens.length) {
    const prefix = stack.map((t) => t.raw).join('');
    let length = prefix.length;
    let current = stack;
    let closeLength = closers(current).length;
    let lineCut: Cut | undefined;
    let spaceCut: Cut | undefined;
    let visible = false;
    let j = start;
    for (; j < tokens.length; j++) {
      const token = tokens[j] as HtmlToken;
      const next = token.kind === 'text' ? current : apply(current, token);
      const nextCloseLength = next === current ? closeLength : closers(next).length;
      if (length + token.raw.length + nextCloseLength > limit) break;
      length += token.raw.length;
      current = next;
      closeLength = nextCloseLength;
      if (token.kind !== 'text') continue;
      // Only cut after something visible: a part of blank lines would be refused as empty.
      if (token.raw === '\n') {
        if (visible) lineCut = { at: j + 1, stack: current };
      } else if (token.raw === ' ' || token.raw === '\t') {
        if (visible) spaceCut = { at: j + 1, stack: current };
      } else if (token.raw.trim() !== '') visible = true;
    }
    const body = (from: number, to: number) =>
      tokens
        .slice(from, to)
        .map((t) => t.raw)
        .join('');
    if (j === tokens.length) {
      parts.push(prefix + body(start, j) + closers(current));
      break;
    }
    if (j === start) {
      throw new RangeError(
        `splitHtml: the tags open at character ${body(0, start).length} (${prefix.length + closeLength} characters to reopen and close) leave no room within the limit of ${limit}`,
      );
    }
    let cut: Cut =
      lineCut ?? (spaceCut && spaceCut.at - start > (j - start) / 2 ? spaceCut : { at: j, stack: current });
    while (cut.at > start + 1 && tokens[cut.at - 1]?.kind === 'open') {
      cut = { at: cut.at - 1, stack: cut.stack.slice(0, -1) };
    }
    parts.push(prefix + body(start, cut.at) + closers(cut.stack));
    start = cut.at;
    stack = cut.stack;
  }
  return parts;
}
