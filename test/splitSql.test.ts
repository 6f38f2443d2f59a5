import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { splitSql } from '../src/clickhouse/splitSql.js';

describe('splitSql', () => {
  it('splits on semicolons outside strings, identifiers, comments and heredocs', () => {
    const text = `-- leading; comment
      SELECT 'it''s; fine', 'a\\'b;c' AS x; # hash; comment
      SELECT "we;ird", \`back;tick\` FROM t /* a /* nested; */ comment; */;
      SELECT $$dollar; body$$, $tag$x;y$tag$;
      -- only a comment;
    `;
    const parts = splitSql(text);
    expect(parts).toHaveLength(3);
    expect(parts[0]).toContain("'it''s; fine'");
    expect(parts[1]).toContain('/* a /* nested; */ comment; */');
    expect(parts[2]).toContain('$tag$x;y$tag$');
  });

  it('throws on unterminated literals', () => {
    expect(() => splitSql("SELECT 'open")).toThrow(/unterminated/);
    expect(() => splitSql('SELECT /* open')).toThrow(/unterminated/);
  });

  it('every migration splits into statements that each start with a keyword', () => {
    const dir = new URL('../sql/migrations/', import.meta.url);
    for (const f of readdirSync(dir)) {
      for (const stmt of splitSql(readFileSync(new URL(f, dir), 'utf8'))) {
        expect(stmt.replace(/--.*$/gm, '').trim()).toMatch(/^(CREATE|INSERT|ALTER)\b/);
      }
    }
  });
});
