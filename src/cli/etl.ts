#!/usr/bin/env node
/** The `etl` executable. */
import { main } from './main.js';

// SIGTERM (systemd stop, CI cancel) or Ctrl-C: abort the running job so its run is recorded as
// cancelled; a second signal exits at once (the next etl invocation then closes the run).
const stop = new AbortController();
for (const name of ['SIGTERM', 'SIGINT'] as const) {
  process.on(name, () => {
    if (stop.signal.aborted) process.exit(name === 'SIGINT' ? 130 : 143);
    process.stderr.write(`etl: received ${name}, stopping the run (send it again to quit at once)\n`);
    stop.abort(new Error(`received ${name}`));
  });
}

const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  isTTY: process.stderr.isTTY === true,
  signal: stop.signal,
});
// Exit explicitly: keep-alive sockets of the upstream clients must not hold the process open.
process.exit(code);
