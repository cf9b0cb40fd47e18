// The `au` program: `bin/au.js` runs the built copy of this file; from a checkout,
// `node --conditions=@au/source --import tsx apps/cli/src/main.ts <command>`.
import { runCli } from './cli';
import { processIo } from './io';

const controller = new AbortController();
let interrupted = false;
process.on('SIGINT', () => {
  // The first Ctrl-C stops waits and watches gracefully; a second one exits at once.
  if (interrupted) process.exit(130);
  interrupted = true;
  controller.abort();
});
process.exitCode = await runCli(process.argv.slice(2), {
  io: processIo(process.env),
  env: process.env,
  signal: controller.signal,
});
