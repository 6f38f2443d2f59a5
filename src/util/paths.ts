/** Locations inside the installed package (SQL files live beside the code, in `sql/`). */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** The package root: the nearest directory above this module that holds `package.json`. Works from `src/` and `dist/src/`. */
export function packageRoot(): string {
  if (cached !== undefined) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) || !existsSync(path.join(dir, 'sql'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the zakaz-etl package root (package.json beside sql/)');
    dir = parent;
  }
  cached = dir;
  return dir;
}

/** Absolute path of a file under `sql/`, e.g. `sqlPath('marts', 'build_dm_sales_daily.sql')`. */
export function sqlPath(...parts: string[]): string {
  return path.join(packageRoot(), 'sql', ...parts);
}
