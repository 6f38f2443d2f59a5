/**
 * The Telegram HTML helpers: escaping, the plain-text fallback and splitHtml, with property tests
 * over random markup checked by the Bot API sandbox's parser (an independent implementation of
 * Telegram's HTML rules).
 */
import { mulberry32 } from '../src/sandbox/vkAdsData.js';
import { describe, expect, it } from 'vitest';
import { escapeHtml, htmlToPlainText, tokenizeHtml, unescapeHtml } from '../src/notify/html.js';
import { splitHtml } from '../src/notify/telegram/split.js';
import { parseTelegramHtml, TelegramHtmlError } from '../src/sandbox/telegramBotApi.js';

/** Deterministic PRNG, so a failing case can be replayed from its seed. */
const prng = mulberry32;

const TEXT_ATOMS = [
  'a',
  'b',
  'z',
  'Q',
  '0',
  '7',
  ' ',
  ' ',
  ' ',
  '\n',
  '\n',
  'é',
  'я',
  'Ж',
  '😀',
  '🇷🇺',
  '—',
  '&amp;',
  '&lt;',
  '&gt;',
  '&quot;',
  '&#128512;',
  '&#x41;',
  '>',
  '"',
  "'",
  '\t',
];

const ELEMENTS: Array<[open: string, close: string]> = [
  ['<b>', '</b>'],
  ['<strong>', '</strong>'],
  ['<i>', '</i>'],
  ['<em>', '</em>'],
  ['<u>', '</u>'],
  ['<s>', '</s>'],
  ['<del>', '</del>'],
  ['<code>', '</code>'],
  ['<a href="https://example.com/x?a=1&amp;b=2">', '</a>'],
  ['<pre>', '</pre>'],
  ['<pre><code class="language-sql">', '</code></pre>'],
  ['<blockquote>', '</blockquote>'],
  ['<blockquote expandable>', '</blockquote>'],
  ['<tg-spoiler>', '</tg-spoiler>'],
  ['<span class="tg-spoiler">', '</span>'],
];

function randomText(next: () => number, atoms: number): string {
  let out = '';
  for (let k = 0; k < atoms; k++) out += TEXT_ATOMS[Math.floor(next() * TEXT_ATOMS.length)];
  return out;
}

/** Random valid Telegram HTML: text runs (some very long lines) and nested elements up to `depth`. */
function randomHtml(next: () => number, depth: number, nodes: number): string {
  let out = '';
  for (let k = 0; k < nodes; k++) {
    const roll = next();
    if (depth > 0 && roll < 0.35) {
      const [open, close] = ELEMENTS[Math.floor(next() * ELEMENTS.length)] as [string, string];
      out += open + randomHtml(next, depth - 1, 1 + Math.floor(next() * 4)) + close;
    } else if (roll < 0.4) {
      // A long line without breaks, to force cuts inside a line.
      out += randomText(next, 200 + Math.floor(next() * 900)).replace(/\n/g, 'x');
    } else {
      out += randomText(next, Math.floor(next() * 80));
    }
  }
  return out;
}

/** Visible text plus, per UTF-16 unit, the formatting that covers it: equal signatures = same rendering. */
function rendering(html: string): { text: string; styles: string[] } {
  const { text, entities } = parseTelegramHtml(html);
  const styles: string[][] = Array.from({ length: text.length }, () => []);
  for (const e of entities) {
    for (let k = e.offset; k < e.offset + e.length; k++) {
      (styles[k] as string[]).push(`${e.type}|${e.url ?? ''}|${e.language ?? ''}`);
    }
  }
  return { text, styles: styles.map((s) => s.sort().join(',')) };
}

describe('escapeHtml', () => {
  it('escapes the four characters Telegram decodes, & first', () => {
    expect(escapeHtml(`<script>alert("x")</script> & &amp;`)).toBe(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &amp;amp;',
    );
  });

  it('round-trips through Telegram parsing, in text and in an href', () => {
    const value = `a<b>&"c" 'd' &lt; 😀`;
    expect(parseTelegramHtml(escapeHtml(value)).text).toBe(value);
    const { entities } = parseTelegramHtml(`<a href="${escapeHtml(`https://x.test/?q="1"&r=<2>`)}">link</a>`);
    expect(entities[0]?.url).toBe(`https://x.test/?q="1"&r=<2>`);
  });
});

describe('htmlToPlainText / unescapeHtml', () => {
  it('strips tags and decodes entities', () => {
    expect(
      htmlToPlainText('<b>Run <code>vk_fetch</code></b> failed: a &lt; b &amp;&amp; c &#128512; &#x41;'),
    ).toBe('Run vk_fetch failed: a < b && c 😀 A');
  });

  it('keeps what is not a supported entity or tag as written', () => {
    expect(unescapeHtml('&nbsp; &#0; &bogus')).toBe('&nbsp; &#0; &bogus');
    expect(htmlToPlainText('a < b <3 and <unknown')).toBe('a < b <3 and <unknown');
  });

  it('tokenizes losslessly, even broken markup', () => {
    const inputs = ['<b>x</b>', 'a < b & c', '<a href="x>y', '😀&amp;<', '</i><b'];
    for (const input of inputs) {
      expect(
        tokenizeHtml(input)
          .map((t) => t.raw)
          .join(''),
      ).toBe(input);
    }
  });
});

describe('splitHtml', () => {
  it('returns short input unchanged and nothing for empty input', () => {
    expect(splitHtml('<b>hi</b>')).toEqual(['<b>hi</b>']);
    expect(splitHtml('')).toEqual([]);
  });

  it('cuts on line boundaries', () => {
    const lines = Array.from({ length: 10 }, (_, k) => `line ${k} ${'x'.repeat(20)}`);
    const parts = splitHtml(lines.join('\n'), 100);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(100);
    // Every part but the last ends right after a line break: no line is cut.
    for (const part of parts.slice(0, -1)) expect(part.endsWith('\n')).toBe(true);
    expect(parts.join('')).toBe(lines.join('\n'));
  });

  it('closes open tags at a cut and reopens them, with attributes, in the next part', () => {
    const html = `<b>bold <a href="https://e.test/?a=1&amp;b=2">${'link text\n'.repeat(12)}</a> end</b>`;
    const parts = splitHtml(html, 90);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(90);
      expect(() => parseTelegramHtml(part)).not.toThrow();
    }
    expect(parts[1]?.startsWith('<b><a href="https://e.test/?a=1&amp;b=2">')).toBe(true);
    expect(parts[0]?.endsWith('</a></b>')).toBe(true);
    expect(parts.map((p) => htmlToPlainText(p)).join('')).toBe(htmlToPlainText(html));
  });

  it('splits a single long line inside, preferring spaces, never inside an entity or a surrogate pair', () => {
    const words = Array.from({ length: 200 }, (_, k) => (k % 3 === 0 ? '&amp;😀' : `word${k}`)).join(' ');
    const parts = splitHtml(`<i>${words}</i>`, 64);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(64);
      expect(() => parseTelegramHtml(part)).not.toThrow();
      expect(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(part)).toBe(false);
    }
    // Cuts after a space whenever one is in the second half of the part.
    for (const part of parts.slice(0, -1)) expect(part.endsWith(' </i>')).toBe(true);
    expect(parts.map((p) => parseTelegramHtml(p).text).join('')).toBe(
      parseTelegramHtml(`<i>${words}</i>`).text,
    );
  });

  it('cuts between characters when a line has no space', () => {
    const parts = splitHtml('y'.repeat(250), 100);
    expect(parts).toEqual(['y'.repeat(100), 'y'.repeat(100), 'y'.repeat(50)]);
  });

  it('moves a start tag that would end a part into the next part', () => {
    const parts = splitHtml(`${'a'.repeat(10)}<b>${'b'.repeat(10)}</b>`, 16);
    expect(parts[0]).toBe('a'.repeat(10));
    expect(parts.every((p) => !/<b><\/b>/.test(p))).toBe(true);
  });

  it('does not make parts of blank lines when a line can be cut after visible text', () => {
    const html = `${'x'.repeat(30)}\n\n\n${'y'.repeat(80)}`;
    for (const part of splitHtml(html, 50)) expect(part.trim()).not.toBe('');
  });

  it('throws RangeError when the open tags leave no room, or for a bad limit', () => {
    expect(() => splitHtml(`<a href="https://example.com/a/long/path">${'x'.repeat(100)}</a>`, 40)).toThrow(
      RangeError,
    );
    expect(() => splitHtml('abc', 0)).toThrow(RangeError);
    expect(() => splitHtml('abc', 1.5)).toThrow(RangeError);
  });

  it('handles a 10,000-character alert at the real limit', () => {
    const rows = Array.from(
      { length: 220 },
      (_, k) => `<b>row ${k}</b>: <code>${escapeHtml(`value<${k}>&`)}</code> ${'z'.repeat(k % 40)}`,
    );
    const html = `<b>Alert</b>\n${rows.join('\n')}`;
    expect(html.length).toBeGreaterThan(10_000);
    const parts = splitHtml(html);
    expect(parts.length).toBeGreaterThanOrEqual(3);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(4096);
      expect(() => parseTelegramHtml(part)).not.toThrow();
    }
    expect(parts.join('')).toBe(html);
  });

  it('property: random markup splits into valid parts ≤ limit with the same rendering', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const next = prng(seed);
      const html = randomHtml(next, 3, 1 + Math.floor(next() * 12));
      const limit = 160 + Math.floor(next() * 540);
      const context = `seed ${seed}, limit ${limit}`;
      const parts = splitHtml(html, limit);
      const whole = rendering(html);
      const joined = { text: '', styles: [] as string[] };
      for (const part of parts) {
        expect(part.length, context).toBeLessThanOrEqual(limit);
        expect(part, context).not.toBe('');
        let r: { text: string; styles: string[] };
        try {
          r = rendering(part);
        } catch (error: unknown) {
          if (error instanceof TelegramHtmlError)
            throw new Error(`${context}: part does not parse: ${error.message}`);
          throw error;
        }
        joined.text += r.text;
        joined.styles.push(...r.styles);
      }
      expect(joined.text, context).toBe(whole.text);
      expect(joined.styles, context).toEqual(whole.styles);
    }
  });
});
