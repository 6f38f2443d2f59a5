/** The environment the CLI validates: the process environment over an optional `.env` file. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import dotenv from 'dotenv';

/**
 * Variables from `<cwd>/.env` (when present) overlaid by `processEnv` (a variable set in the
 * environment wins over the file, as systemd's EnvironmentFile and CI secrets expect).
 */
export function readEnvironment(
  cwd: string,
  processEnv: NodeJS.ProcessEnv,
): Record<string, string | undefined> {
  const file = path.join(cwd, '.env');
  const fromFile = existsSync(file) ? dotenv.parse(readFileSync(file)) : {};
  return { ...fromFile, ...processEnv };
}
