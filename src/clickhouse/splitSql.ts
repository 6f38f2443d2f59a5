/**
 * Splits a `.sql` file into single statements. A ClickHouse server over HTTP refuses
 * multi-statement requests (code 62), and chdb runs them non-atomically, so every file is sent
 * one statement at a time. Handles what the engine accepts: `--` and `#` line comments, nested
 * block comments, '…' strings with '' or \' escapes, "…" and `…` identifiers, $$…$$ and
 * $tag$…$tag$ heredocs. Comment-only chunks are dropped.
 * @throws Error on an unterminated string, identifier, comment or heredoc (with its offset).
 */
export function splitSql(text: string): string[] {
  const statements: string[] = [];
  let current = '';
  let meaningful = false;
  let i = 0;
  const n = text.length;
  const push = () => {
    if (meaningful) statements.push(current.trim());
    current = '';
    meaningful = false;
  };
  while (i < n) {
    const c = text[i] as string;
    const next = text[i + 1];
    if ((c === '-' && next === '-') || c === '#') {
      const end = text.indexOf('\n', i);
      const stop = end === -1 ? n : end;
      current += text.slice(i, stop);
      i = stop;
      continue;
    }
    if (c === '/' && next === '*') {
      let depth = 0;
      let j = i;
      while (j < n) {
        if (text[j] === '/' && text[j + 1] === '*') {
          depth++;
          j += 2;
        } else if (text[j] === '*' && text[j + 1] === '/') {
          depth--;
          j += 2;
          if (depth === 0) break;
        } else j++;
      }
      if (depth !== 0) throw new Error(`unterminated block comment at offset ${i}`);
      current += text.slice(i, j);
      i = j;
      continue;
    }
    if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      for (;;) {
        if (j >= n) throw new Error(`unterminated ${c} literal at offset ${i}`);
        const d = text[j];
        if (d === '\\') j += 2;
        else if (d === c && text[j + 1] === c) j += 2;
        else if (d === c) break;
        else j++;
      }
      current += text.slice(i, j + 1);
      meaningful = true;
      i = j + 1;
      continue;
    }
    if (c === '$') {
      const tag = /^\$[A-Za-z_]*\$/.exec(text.slice(i, i + 64));
      if (tag) {
        const close = text.indexOf(tag[0], i + tag[0].length);
        if (close === -1) throw new Error(`unterminated ${tag[0]} heredoc at offset ${i}`);
        current += text.slice(i, close + tag[0].length);
        meaningful = true;
        i = close + tag[0].length;
        continue;
      }
    }
    if (c === ';') {
      push();
      i++;
      continue;
    }
    if (!/\s/.test(c)) meaningful = true;
    current += c;
    i++;
  }
  push();
  return statements;
}
