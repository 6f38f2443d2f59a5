/** The environment the CLI validates: the process environment over an optional `.env` file. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import dotenv from 'dotenv';
import { ConfigError } from '../errors.js';

/**
 * Variables from `<cwd>/.env` (when present) overlaid by `processEnv` (a variable set in the
 * environment wins over the file, as systemd's EnvironmentFile and CI secrets expect).
 * @throws ConfigError when `.env` exists but cannot be read (e.g. it is a directory).
 */
export function readEnvironment(
  cwd: string,
  processEnv: NodeJS.ProcessEnv,
): Record<string, string | undefined> {
  const file = path.join(cwd, '.env');
  let fromFile: Record<string, string> = {};
  if (existsSync(file)) {
    try {
      fromFile = dotenv.parse(readFileSync(file));
    } catch (error: unknown) {
      throw new ConfigError([
        `.env: cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`,
      ]);
    }
  }
  return { ...fromFile, ...processEnv };
}
