import { spawn } from 'node:child_process';
import type { CommandContext } from '../../command-context';
import { CliError } from '../../errors/cli-error';
import { EXIT_CODES } from '../../exit-codes';
import { locateJobServer } from '../../locate-job-server';

export type WorkerOptions = Record<string, never>;

/** The `AU_BACKEND` values whose work waits in a shared queue that workers take from. */
export const DISTRIBUTED_BACKENDS = ['bullmq', 'postgres', 'supabase'];

/**
 * `au worker`: runs the job server's own worker (`job-server worker`) with this
 * environment, so workers read the config file (`au.config.*`, `AU_CONFIG`), `AU_STORE`,
 * `AU_BACKEND`, `AU_TASKS`, `AU_CONCURRENCY` exactly as the server does. Its output and
 * exit code are the command's; SIGTERM and Ctrl-C stop it gracefully. With a backend
 * that runs work inside the server (inline, threads, process) there is nothing to take
 * work from: exit 2.
 */
export async function run(_options: WorkerOptions, context: CommandContext): Promise<number> {
  // Without AU_BACKEND the backend comes from the config file or the preset, which the
  // job server's worker reads (and refuses a local backend with the same exit code).
  const backend = context.env.AU_BACKEND?.trim();
  if (backend !== undefined && backend !== '' && !DISTRIBUTED_BACKENDS.includes(backend)) {
    throw new CliError({
      message: `au worker takes work from a distributed backend's queue, and AU_BACKEND=${backend} runs work inside the job server itself: start the server instead, or set AU_BACKEND to ${DISTRIBUTED_BACKENDS.join(', ')}`,
      exitCode: EXIT_CODES.usage,
      code: 'NOT_DISTRIBUTED',
    });
  }
  const entry = locateJobServer();
  if (entry === undefined) {
    throw new CliError({
      message:
        'au worker runs the job server\'s worker, and @au/job-server is not installed next to @au/cli: install it, or run "job-server worker" where it is',
      exitCode: EXIT_CODES.usage,
      code: 'NO_JOB_SERVER',
    });
  }
  const child = spawn(process.execPath, [...entry.execArgv, entry.file, 'worker'], {
    stdio: 'inherit',
    env: { ...context.env },
  });
  const forward = (signal: NodeJS.Signals) => () => {
    if (child.exitCode === null) child.kill(signal);
  };
  const onTerm = forward('SIGTERM');
  // Ctrl-C reaches the child from the terminal; a programmatic abort is forwarded.
  const onAbort = forward('SIGINT');
  process.on('SIGTERM', onTerm);
  context.signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) =>
        resolve(code ?? (signal === 'SIGTERM' || signal === 'SIGINT' ? 0 : 1)),
      );
    });
  } finally {
    process.off('SIGTERM', onTerm);
    context.signal.removeEventListener('abort', onAbort);
  }
}
