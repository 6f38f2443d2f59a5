#!/usr/bin/env node
/** The `etl` executable. */
import { main } from './main.js';

const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  isTTY: process.stderr.isTTY === true,
});
// Exit explicitly: keep-alive sockets of the upstream clients must not hold the process open.
process.exit(code);
