/**
 * Telegram's HTML parse mode, the small parts the notifier needs: escaping dynamic values, a
 * lenient tokenizer for the splitter, and a plain-text rendering for the fallback when Telegram
 * refuses the markup. Source: https://core.telegram.org/bots/api#html-style
 */

/**
 * Escapes a value for Telegram HTML: `&` → `&amp;`, `<` → `&lt;`, `>` → `&gt;`, `"` → `&quot;`.
 * Safe both in text and inside a double-quoted attribute (`<a href="…">`); Telegram decodes all
 * four, so the value shows exactly as given.
 * @param text any string (not HTML).
 * @returns the escaped string; never throws.
 * Source: https://core.telegram.org/bots/api#html-style
 */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * One unit of a Telegram HTML string, `raw` exactly as in the source:
 * - `text`: one character (a whole surrogate pair for astral characters) or one character
 *   entity (`&amp;`, `&#128512;`), so that cutting between tokens never breaks either;
 * - `open` / `close`: a whole start or end tag; `name` is lower-case.
 */
export type HtmlToken =
  | { kind: 'text'; raw: string }
  | { kind: 'open'; raw: string; name: string }
  | { kind: 'close'; raw: string; name: string };

const TAG =
  /^<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z0-9_-]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>"']+))?)*)\s*>/;
const ENTITY = /^&(?:[a-zA-Z]{2,8}|#\d{1,7}|#[xX][0-9a-fA-F]{1,6});/;

/**
 * Splits Telegram HTML into tokens (see {@link HtmlToken}). Lenient: a `<` or `&` that does not
 * start a well-formed tag or entity becomes a one-character text token, so any string tokenizes
 * and the tokens' `raw` values always concatenate back to the input.
 */
export function tokenizeHtml(html: string): HtmlToken[] {
  const tokens: HtmlToken[] = [];
  let i = 0;
  while (i < html.length) {
    const ch = html[i] as string;
    if (ch === '<') {
      const m = TAG.exec(html.slice(i, i + 4096));
      if (m) {
        const name = (m[2] as string).toLowerCase();
        tokens.push({ kind: m[1] === '/' ? 'close' : 'open', raw: m[0], name });
        i += m[0].length;
        continue;
      }
    } else if (ch === '&') {
      const m = ENTITY.exec(html.slice(i, i + 12));
      if (m) {
        tokens.push({ kind: 'text', raw: m[0] });
        i += m[0].length;
        continue;
      }
    }
    const code = html.codePointAt(i) as number;
    const width = code > 0xffff ? 2 : 1;
    tokens.push({ kind: 'text', raw: html.slice(i, i + width) });
    i += width;
  }
  return tokens;
}

/**
 * Decodes the character entities Telegram supports (`&lt; &gt; &amp; &quot;`, `&#N;`, `&#xH;`);
 * anything else stays as written.
 */
export function unescapeHtml(text: string): string {
  return text.replace(
    /&(?:(lt|gt|amp|quot)|#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6}));/g,
    (whole, named, dec, hex) => {
      if (named !== undefined)
        return ({ lt: '<', gt: '>', amp: '&', quot: '"' } as Record<string, string>)[
          named as string
        ] as string;
      const code = dec !== undefined ? Number(dec) : parseInt(hex as string, 16);
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff)
        ? String.fromCodePoint(code)
        : whole;
    },
  );
}

/**
 * The text a reader sees, without markup: tags removed, entities decoded. Used to resend a message
 * that Telegram refused to parse as plain text (no `parse_mode`), so the alert still arrives.
 * @returns a string no longer than `html`.
 */
export function htmlToPlainText(html: string): string {
  return tokenizeHtml(html)
    .filter((t) => t.kind === 'text')
    .map((t) => unescapeHtml(t.raw))
    .join('');
}
