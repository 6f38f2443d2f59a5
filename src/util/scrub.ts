/**
 * Secret scrubbing for anything that leaves the process as text: `meta.etl_runs.err_msg`, logs,
 * chat messages. Known secret values (tokens, passwords from the config) are replaced wherever they
 * appear, and common credential shapes (Bearer headers, `access_token=…` in URLs or forms) are
 * masked even when their value is not known in advance (e.g. a freshly minted VK token).
 */
const PATTERNS: RegExp[] = [
  /(bearer\s+)[A-Za-z0-9._~+/=-]{6,}/gi,
  /((?:access_token|refresh_token|client_secret|password|token)["']?\s*[=:]\s*["']?)[^\s&"',}]{3,}/gi,
  /(https?:\/\/[^\s:/@]+:)[^\s@/]+(@)/gi,
  // A Telegram bot token in a Bot API URL: …/bot123456:AA…/sendMessage (node-fetch puts the URL in its errors).
  /(\/bot)\d+:[A-Za-z0-9_-]+(\/)/g,
];

/** A function that masks secrets in a text. */
export type Scrubber = (text: string) => string;

/**
 * Builds a scrubber for the given secret values (empty or very short values are ignored so that
 * "" or "1" never wipe a message).
 */
export function createScrubber(secrets: ReadonlyArray<string | undefined>): Scrubber {
  const known = [...new Set(secrets.filter((s): s is string => typeof s === 'string' && s.length >= 4))].sort(
    (a, b) => b.length - a.length,
  );
  return (text: string): string => {
    let out = text;
    for (const secret of known) out = out.split(secret).join('***');
    for (const re of PATTERNS) out = out.replace(re, (_m, p1: string, p2?: string) => `${p1}***${p2 ?? ''}`);
    return out;
  };
}

/**
 * Short single-paragraph message for `err_msg`: the error's message and its causes, joined by
 * " ← ", scrubbed, at most `maxChars` characters.
 */
export function describeError(error: unknown, scrub: Scrubber, maxChars = 600): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 4; depth++) {
    if (current instanceof Error) {
      const msg = current.message.trim();
      if (msg && !parts.some((p) => p.includes(msg))) parts.push(msg);
      current = current.cause;
    } else {
      parts.push(typeof current === 'string' ? current : JSON.stringify(current));
      break;
    }
  }
  const text = scrub(parts.join(' ← ').replace(/\s+/g, ' ').trim() || 'unknown error');
  return text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text;
}
