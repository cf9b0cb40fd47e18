// The job server's entry: `node --conditions=@au/source --import tsx apps/job-server/src/main.ts [command]`
// (what `npx pnpm@10 start` runs from the repository root). Commands load lazily.
import { ConfigError } from '@au/core';
import { parseArguments, USAGE } from './cli';
import { StartupCheckError } from './errors/startup-check-error';
import { UsageError } from './errors/usage-error';

const command = parseArguments(process.argv.slice(2));
try {
  if (command.name === 'help') {
    console.log(USAGE);
  } else if (command.name === 'error') {
    console.error(`${command.message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else {
    const { run } =
      command.name === 'worker' ? await import('./commands/worker') : await import('./commands/serve');
    await run({
      env: process.env,
      ...(command.configFile === undefined ? {} : { configFile: command.configFile }),
    });
  }
} catch (error) {
  if (UsageError.isInstance(error)) {
    console.error(`[au] [job-server] ${error.message}`);
    process.exit(error.exitCode);
  }
  if (ConfigError.isInstance(error)) {
    console.error(error.message);
    process.exit(2);
  }
  if (StartupCheckError.isInstance(error)) {
    console.error(error.message);
    process.exit(1);
  }
  console.error('[au] [job-server] could not start:', error);
  process.exit(1);
}
