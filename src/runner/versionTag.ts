/** The `version_tag` of run rows: the git commit the code runs from. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../util/paths.js';

/**
 * `VERSION_TAG` when set (CI and packaged deployments set it), else the checkout's short commit,
 * else `v<package version>`.
 */
export function resolveVersionTag(configured: string | undefined): string {
  if (configured) return configured;
  const root = packageRoot();
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 2_000,
    })
      .toString()
      .trim();
  } catch {
    try {
      const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version?: string };
      return `v${pkg.version ?? '0'}`;
    } catch {
      return 'unknown';
    }
  }
}
