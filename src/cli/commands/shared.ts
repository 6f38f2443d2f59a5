/** Helpers shared by the CLI commands. */
import os from 'node:os';
import type { CliIo } from '../main.js';
import type { Trigger } from '../../runner/runRecord.js';

/** The trigger of a CLI-started run: `--trigger`, else `ci` inside GitHub Actions, else `cli`. */
export function cliTrigger(option: string | undefined, env: CliIo['env']): Trigger {
  if (option === 'schedule' || option === 'ci' || option === 'cli') return option;
  return env.GITHUB_ACTIONS === 'true' ? 'ci' : 'cli';
}

/** Who started a CLI run: `--actor`, else the CI actor, else the login user. */
export function cliActor(option: string | undefined, env: CliIo['env']): string {
  return option ?? env.GITHUB_ACTOR ?? env.USER ?? env.LOGNAME ?? loginName();
}

function loginName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return '';
  }
}
