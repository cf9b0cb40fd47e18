/** What the command line asks for. */
export type Command =
  | { name: 'serve' }
  | { name: 'worker' }
  | { name: 'help' }
  | { name: 'error'; message: string };

export const USAGE = `usage: job-server [serve | worker | help]

  serve   (default) the HTTP API, on AU_HOST:AU_PORT (127.0.0.1:8080)
  worker  run tasks from a distributed backend's queue (AU_BACKEND=bullmq|postgres|supabase)

environment:
  AU_STORE    memory | fs:PATH | redis://… | postgres://… | supabase   (default fs:$AU_DATA_DIR)
  AU_BACKEND  inline | threads | process | bullmq | postgres | supabase (default threads)
  AU_TASKS    comma-separated task modules to serve besides the samples
  AU_API_KEYS comma-separated bearer tokens (none: no authentication)
  AU_DATA_DIR AU_TTL_SECONDS AU_CONCURRENCY AU_WAIT_SECONDS AU_MAX_WAIT_SECONDS AU_BODY_LIMIT
  AU_SHUTDOWN_TIMEOUT_MS AU_LOG_LEVEL AU_SAMPLE_TASKS AU_EXPOSE_STACKS (see docs/job-server.md)`;

/** Parses the arguments after the script name. */
export function parseArguments(argv: readonly string[]): Command {
  const [first, ...rest] = argv;
  if (first === undefined || first === 'serve') {
    return rest.length === 0 ? { name: 'serve' } : unexpected(rest[0]!);
  }
  if (first === 'worker') return rest.length === 0 ? { name: 'worker' } : unexpected(rest[0]!);
  if (first === 'help' || first === '--help' || first === '-h') return { name: 'help' };
  return { name: 'error', message: `unknown command "${first}"` };
}

function unexpected(argument: string): Command {
  return { name: 'error', message: `unexpected argument "${argument}": settings come from the environment` };
}
