/** `etl migrate`: apply pending migrations; a second call applies nothing. */
import { openApp } from '../../app/openApp.js';
import { ExitCode } from '../../errors.js';
import type { CommandContext } from '../main.js';

/** Applies pending migrations and says what it did. @returns 0. @throws MigrationError (1). */
export async function migrateCommand(ctx: CommandContext): Promise<number> {
  const config = ctx.config();
  const logger = ctx.logger(config);
  const app = await openApp({
    config,
    logger,
    owner: 'etl migrate',
    schema: 'apply',
    notifier: ctx.notifier(config, logger),
  });
  try {
    const m = app.migrations;
    if (m && m.applied.length > 0)
      ctx.out(`applied ${m.applied.length} migration(s): ${m.applied.join(', ')}`);
    else ctx.out(`schema is up to date (${m?.alreadyApplied ?? 0} migration(s) applied earlier)`);
    return ExitCode.ok;
  } finally {
    await app.close();
  }
}
