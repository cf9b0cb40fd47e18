/** What the command line asks for. */
export type Command =
  | { name: 'serve'; configFile?: string }
  | { name: 'worker'; configFile?: string }
  | { name: 'help' }
  | { name: 'error'; message: string };

export const USAGE = `usage: job-server [serve | worker | help] [--config FILE]

  serve   (default) the HTTP API, on AU_HOST:AU_PORT (127.0.0.1:8080)
  worker  run tasks from a distributed backend's queue (AU_BACKEND=bullmq|postgres|supabase)

  --config FILE  settings from FILE (.ts .js .json .yaml .toml) instead of the nearest
                 au.config.* (also AU_CONFIG); environment variables override it

environment:
  AU_PRESET   development | production | test (default: NODE_ENV when it is one, else production)
  AU_STORE    memory | fs:PATH | redis://… | postgres://… | supabase   (default fs:$AU_DATA_DIR)
  AU_BACKEND  inline | threads | process | bullmq | postgres | supabase (default threads)
  AU_TASKS    comma-separated task modules to serve besides the samples
  AU_API_KEYS comma-separated bearer tokens (none: no authentication)
  AU_DATA_DIR AU_TTL_SECONDS AU_CONCURRENCY AU_WAIT_SECONDS AU_MAX_WAIT_SECONDS AU_BODY_LIMIT
  AU_SHUTDOWN_TIMEOUT_MS AU_LOG_LEVEL AU_SAMPLE_TASKS AU_EXPOSE_STACKS (see docs/job-server.md)
  AU_TRACING  true: OpenTelemetry spans (needs @opentelemetry/api and an SDK; docs/observability.md)`;

/** Parses the arguments after the script name. */
export function parseArguments(argv: readonly string[]): Command {
  const options = takeConfigOption(argv);
  if ('error' in options) return { name: 'error', message: options.error };
  const config = options.configFile === undefined ? {} : { configFile: options.configFile };
  const [first, ...rest] = options.rest;
  if (first === undefined || first === 'serve') {
    return rest.length === 0 ? { name: 'serve', ...config } : unexpected(rest[0]!);
  }
  if (first === 'worker') return rest.length === 0 ? { name: 'worker', ...config } : unexpected(rest[0]!);
  if (first === 'help' || first === '--help' || first === '-h') return { name: 'help' };
  return { name: 'error', message: `unknown command "${first}"` };
}

/** `--config FILE` or `--config=FILE`, anywhere; the other arguments in order. */
function takeConfigOption(
  argv: readonly string[],
): { configFile: string | undefined; rest: string[] } | { error: string } {
  let configFile: string | undefined;
  const rest: string[] = [];
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index]!;
    let value: string | undefined;
    if (argument === '--config') {
      value = argv[index + 1];
      index += 1;
      if (value === undefined || value.startsWith('-')) return { error: '--config needs a file' };
    } else if (argument.startsWith('--config=')) {
      value = argument.slice('--config='.length);
      if (value === '') return { error: '--config needs a file' };
    } else {
      rest.push(argument);
      continue;
    }
    if (configFile !== undefined) return { error: '--config is given twice' };
    configFile = value;
  }
  return { configFile, rest };
}

function unexpected(argument: string): Command {
  return {
    name: 'error',
    message: `unexpected argument "${argument}": settings come from a config file (--config) and the environment`,
  };
}
