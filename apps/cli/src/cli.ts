import { closestName } from '@au/core/kit';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { CommandContext } from './command-context';
import type { CancelOptions } from './commands/cancel/index';
import type { CleanupOptions } from './commands/cleanup/index';
import type { DeadLettersOptions } from './commands/dead-letters/index';
import type { ListOptions } from './commands/list/index';
import type { LogsOptions } from './commands/logs/index';
import type { PauseOptions } from './commands/pause/index';
import type { PausedOptions } from './commands/paused/index';
import type { RedriveOptions } from './commands/redrive/index';
import type { ResultOptions } from './commands/result/index';
import type { ResumeOptions } from './commands/resume/index';
import type { RetryOptions } from './commands/retry/index';
import type { SchedulesOptions } from './commands/schedules/index';
import type { StatusOptions } from './commands/status/index';
import type { SubmitOptions } from './commands/submit/index';
import type { TasksOptions } from './commands/tasks/index';
import type { WatchOptions } from './commands/watch/index';
import type { WorkerOptions } from './commands/worker/index';
import { CliError } from './errors/cli-error';
import { EXIT_CODES } from './exit-codes';
import { explainError } from './explain-error';
import type { Io } from './io';

/** The server `au` talks to when neither `--url` nor `AU_URL` says otherwise (the job server's default). */
export const DEFAULT_URL = 'http://127.0.0.1:8080';

/** The options every command accepts. */
export interface GlobalOptions {
  url?: string;
  apiKey?: string;
  json?: boolean;
  /** `--no-color` sets it to false. */
  color?: boolean;
}

/** Each command's name and its own options. */
export interface CommandOptionsMap {
  submit: SubmitOptions;
  status: StatusOptions;
  result: ResultOptions;
  cancel: CancelOptions;
  list: ListOptions;
  watch: WatchOptions;
  logs: LogsOptions;
  tasks: TasksOptions;
  worker: WorkerOptions;
  cleanup: CleanupOptions;
  schedules: SchedulesOptions;
  retry: RetryOptions;
  redrive: RedriveOptions;
  'dead-letters': DeadLettersOptions;
  pause: PauseOptions;
  resume: ResumeOptions;
  paused: PausedOptions;
}

export type CommandName = keyof CommandOptionsMap;

/** What the command line asks for: a command to run, or an answer already written (help, usage error). */
export type ParsedCommandLine =
  | {
      [Name in CommandName]: {
        kind: 'run';
        command: Name;
        options: CommandOptionsMap[Name];
        globals: GlobalOptions;
      };
    }[CommandName]
  | { kind: 'exit'; exitCode: number; output: string; error: string };

type Loader = () => Promise<{ run(options: never, context: CommandContext): Promise<number> }>;

// Each command loads only when it runs.
const COMMANDS: Record<CommandName, Loader> = {
  submit: () => import('./commands/submit/index'),
  status: () => import('./commands/status/index'),
  result: () => import('./commands/result/index'),
  cancel: () => import('./commands/cancel/index'),
  list: () => import('./commands/list/index'),
  watch: () => import('./commands/watch/index'),
  logs: () => import('./commands/logs/index'),
  tasks: () => import('./commands/tasks/index'),
  worker: () => import('./commands/worker/index'),
  cleanup: () => import('./commands/cleanup/index'),
  schedules: () => import('./commands/schedules/index'),
  retry: () => import('./commands/retry/index'),
  redrive: () => import('./commands/redrive/index'),
  'dead-letters': () => import('./commands/dead-letters/index'),
  pause: () => import('./commands/pause/index'),
  resume: () => import('./commands/resume/index'),
  paused: () => import('./commands/paused/index'),
};

const STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'];

const GLOBAL_HELP = `
Global options (accepted by every command):
  --url <url>        the job server (default: $AU_URL, else ${DEFAULT_URL})
  --api-key <key>    API key sent as a bearer token (default: $AU_API_KEY)
  --json             print JSON for scripts
  --no-color         no colours (also when stdout is not a terminal, or NO_COLOR is set)

Exit codes: 0 success, 1 the computation failed or was cancelled, 2 usage error,
3 server unreachable or id not found.`;

/**
 * The `au` program. `onCommand` receives what a command's action was called with:
 * parsing never runs a command, so the table of arguments is testable on its own.
 */
export function createProgram(
  onCommand: (parsed: Extract<ParsedCommandLine, { kind: 'run' }>) => void,
): Command {
  const program = new Command('au')
    .description('Submit, follow and manage computations on an au job server.')
    .option('--url <url>', `the job server (default: $AU_URL, else ${DEFAULT_URL})`)
    .option('--api-key <key>', 'API key sent as a bearer token (default: $AU_API_KEY)')
    .option('--json', 'print JSON for scripts')
    .option('--no-color', 'no colours')
    .showSuggestionAfterError(true)
    .showHelpAfterError('(add --help for usage and examples)')
    .addHelpText(
      'after',
      `
Examples:
  $ au tasks                                  what the server runs
  $ au submit factorial n=20                  run a task and print its result
  $ au submit sleep seconds=30 --async        print the id at once
  $ au result <id> --wait                     wait for it, with a progress bar
  $ au list --status running,pending          what is in flight
  $ au dead-letters count                     how many failed for good
  $ au redrive --task primes --since 1h       retry them
  $ AU_URL=http://jobs:8080 AU_API_KEY=… au watch

Exit codes: 0 success, 1 the computation failed or was cancelled, 2 usage error,
3 server unreachable or id not found.`,
    );

  const emit = <Name extends CommandName>(
    command: Name,
    options: CommandOptionsMap[Name],
    source: Command,
  ) => {
    onCommand({
      kind: 'run',
      command,
      options,
      globals: source.optsWithGlobals() as GlobalOptions,
    } as Extract<ParsedCommandLine, { kind: 'run' }>);
  };
  const examples = (lines: string) => `\nExamples:\n${lines}\n${GLOBAL_HELP}`;

  program
    .command('submit')
    .description('run a task on the server: waits for the result (with a progress bar) unless --async')
    .argument('<task>', 'the task name (see au tasks)')
    .argument('[input...]', 'the input as key=value pairs; values are read as JSON when they are JSON')
    .option('-i, --input <json>', 'the input as JSON, or @file.json')
    .addOption(
      new Option(
        '-w, --wait [seconds]',
        'wait at most this long for the result (default: until it ends)',
      ).argParser(parseWait),
    )
    .option('-a, --async', 'do not wait: print the id at once')
    .option(
      '-k, --key <key>',
      'your own id (sent as Idempotency-Key): the same key and input join one run; another input is refused',
    )
    .option('--idempotency-key <key>', 'the same as --key')
    .option(
      '--idempotency-window <seconds>',
      'with --key: seconds after it finished during which the key joins it; past them it runs again',
      parseSeconds,
    )
    .option(
      '-p, --priority <n>',
      "higher runs first (a whole number; default: the task's, else 0)",
      parsePriority,
    )
    .option('--delay <ms>', 'milliseconds to wait before it may start', parseDelay)
    .option('-t, --tag <tag>', 'a tag to list it by (repeat for several)', collectTag)
    .option('--ttl <seconds>', 'seconds its record is kept after it ends', parseTtl)
    .option(
      '--depends-on <ids>',
      'comma-separated ids: start once they all completed (a failed or cancelled one ends this too)',
      (value: string) =>
        value
          .split(',')
          .map((id) => id.trim())
          .filter((id) => id.length > 0),
    )
    .addHelpText(
      'after',
      examples(`  $ au submit factorial n=20
  $ au submit factorial n=30 --depends-on 0190a1b2-…   # after that one completed
  $ au submit primes --input '{"limit": 2000000}' --wait 10
  $ au submit sleep seconds=60 --async           # prints the id
  $ au submit report day=2026-01-31 --key report-2026-01-31 --tag nightly --priority 5
  $ au submit fail message="boom" --json         # exit code 1`),
    )
    .action(
      (task: string, input: string[], options: Omit<SubmitOptions, 'task' | 'pairs'>, command: Command) => {
        emit('submit', { ...options, task, pairs: input }, command);
      },
    );

  program
    .command('status')
    .description('show the status, progress and timestamps of a computation')
    .argument('<id>', 'the computation id')
    .addHelpText(
      'after',
      examples('  $ au status 0193a5c4-…\n  $ au status 0193a5c4-… --json | jq .progress'),
    )
    .action((id: string, _options: object, command: Command) => emit('status', { id }, command));

  program
    .command('result')
    .description('print the result of a computation (or its error)')
    .argument('<id>', 'the computation id')
    .addOption(
      new Option(
        '-w, --wait [seconds]',
        'wait for it to end, with a progress bar (default: until it ends)',
      ).argParser(parseWait),
    )
    .addHelpText(
      'after',
      examples(
        '  $ au result 0193a5c4-…\n  $ au result 0193a5c4-… --wait\n  $ au result 0193a5c4-… --wait 30 --json',
      ),
    )
    .action((id: string, options: Omit<ResultOptions, 'id'>, command: Command) =>
      emit('result', { ...options, id }, command),
    );

  program
    .command('cancel')
    .description('cancel a pending or running computation')
    .argument('<id>', 'the computation id')
    .addHelpText('after', examples('  $ au cancel 0193a5c4-…'))
    .action((id: string, _options: object, command: Command) => emit('cancel', { id }, command));

  program
    .command('retry')
    .description(
      'run a failed or cancelled computation again under its id (its attempts are kept in its history)',
    )
    .argument('<id>', 'the computation id')
    .addHelpText('after', examples('  $ au retry 0193a5c4-…\n  $ au retry 0193a5c4-… --json | jq .history'))
    .action((id: string, _options: object, command: Command) => emit('retry', { id }, command));

  program
    .command('redrive')
    .description('retry every failed computation (or cancelled, with --status) that matches the filters')
    .option('-t, --task <name>', 'only this task')
    .option(
      '-s, --status <statuses>',
      'failed, cancelled or both, comma-separated (default: failed)',
      parseRetryable,
    )
    .option(
      '--since <time>',
      'only those that ended since then: an ISO date, or an age like 30m, 2h, 1d',
      (value: string) => parseSince(value),
    )
    .option('--tag <tag>', 'only those carrying this tag')
    .option('-n, --limit <count>', 'at most this many, newest first', parsePositive)
    .addHelpText(
      'after',
      examples(
        '  $ au redrive --task primes\n  $ au redrive --since 1h --status failed,cancelled\n  $ au redrive --tag nightly --limit 100 --json',
      ),
    )
    .action((options: RedriveOptions, command: Command) => emit('redrive', options, command));

  program
    .command('dead-letters')
    .description(
      'failed computations (retries spent, or never started): list them, count them, or purge them',
    )
    .argument('[action]', 'list (default), count or purge', parseDeadLetterAction, 'list')
    .option('-t, --task <name>', 'only this task')
    .option('--tag <tag>', 'only those carrying this tag')
    .option('-n, --limit <count>', 'list: how many (1 to 1000, default 20)', parseLimit)
    .option('--cursor <cursor>', 'list: the next page, as printed by the previous one')
    .option(
      '--before <time>',
      'purge: only those that ended before then: an ISO date, or an age like 7d',
      (value: string) => parseSince(value),
    )
    .addHelpText(
      'after',
      examples(
        '  $ au dead-letters\n  $ au dead-letters count --task primes\n  $ au dead-letters purge --before 7d',
      ),
    )
    .action(
      (action: DeadLettersOptions['action'], options: Omit<DeadLettersOptions, 'action'>, command: Command) =>
        emit('dead-letters', { ...options, action }, command),
    );

  program
    .command('pause')
    .description(
      'pause a task (or, without one, the whole queue) on every worker: running work finishes, waiting work stays pending',
    )
    .argument('[task]', 'the task name (need not be served by this server); without it, the whole queue')
    .addHelpText('after', examples('  $ au pause primes\n  $ au pause                 the whole queue'))
    .action((task: string | undefined, _options: object, command: Command) =>
      emit('pause', task === undefined ? {} : { task }, command),
    );

  program
    .command('resume')
    .description('resume a paused task (or, without one, the whole queue)')
    .argument('[task]', 'the task name; without it, the whole queue (tasks paused one by one stay paused)')
    .addHelpText('after', examples('  $ au resume primes\n  $ au resume'))
    .action((task: string | undefined, _options: object, command: Command) =>
      emit('resume', task === undefined ? {} : { task }, command),
    );

  program
    .command('paused')
    .description('what is paused: the whole queue, and tasks one by one')
    .addHelpText('after', examples('  $ au paused\n  $ au paused --json'))
    .action((_options: object, command: Command) => emit('paused', {}, command));

  program
    .command('list')
    .description('list computations, newest first')
    .option(
      '-s, --status <statuses>',
      'only these statuses, comma-separated (pending,running,completed,failed,cancelled)',
      parseStatuses,
    )
    .option('-t, --task <name>', 'only this task')
    .option('-n, --limit <count>', 'how many (1 to 1000, default 20)', parseLimit)
    .option('--cursor <cursor>', 'the next page, as printed by the previous one')
    .addHelpText(
      'after',
      examples(
        '  $ au list\n  $ au list --status failed --task primes --limit 5\n  $ au list --json | jq -r ".items[].taskId"',
      ),
    )
    .action((options: ListOptions, command: Command) => emit('list', options, command));

  program
    .command('watch')
    .description(
      "live view of pending and running computations, from the server's event stream (Ctrl-C to stop)",
    )
    .option('-s, --status <statuses>', 'which statuses to follow (default: pending,running)', parseStatuses)
    .option('-t, --task <name>', 'only this task')
    .option('--tag <tag>', 'only computations with this tag')
    .option('--interval <seconds>', 'seconds between redraws on a terminal (default 1)', parseInterval)
    .option('--until-idle', 'stop once nothing is pending or running')
    .addHelpText(
      'after',
      examples(
        '  $ au watch\n  $ au watch --task primes\n  $ au watch --until-idle --json     # one JSON line per change',
      ),
    )
    .action((options: WatchOptions, command: Command) => emit('watch', options, command));

  program
    .command('logs')
    .description('print the lines a computation wrote with ctx.log')
    .argument('<id>', 'the computation id')
    .option('-f, --follow', 'keep printing new lines until the computation ends')
    .option('--interval <seconds>', 'seconds between reads while following (default 0.5)', parseInterval)
    .addHelpText(
      'after',
      examples(
        '  $ au logs 0193a5c4-…\n  $ au logs 0193a5c4-… --follow\n  $ au logs 0193a5c4-… --json | jq .message',
      ),
    )
    .action((id: string, options: Omit<LogsOptions, 'id'>, command: Command) =>
      emit('logs', { ...options, id }, command),
    );

  program
    .command('tasks')
    .description('list the tasks the server runs, with their input (from its OpenAPI document)')
    .addHelpText('after', examples('  $ au tasks\n  $ au tasks --json | jq ".[].name"'))
    .action((_options: object, command: Command) => emit('tasks', {}, command));

  program
    .command('worker')
    .description(
      'run distributed workers from the same AU_* environment as the job server (AU_BACKEND=bullmq|postgres|supabase)',
    )
    .addHelpText(
      'after',
      examples(
        '  $ AU_STORE=redis://127.0.0.1:6379 AU_BACKEND=bullmq AU_TASKS=./tasks.js au worker\n  $ AU_STORE=postgres://… AU_BACKEND=postgres AU_CONCURRENCY=4 au worker',
      ),
    )
    .action((_options: object, command: Command) => emit('worker', {}, command));

  program
    .command('cleanup')
    .description("remove expired computations from the store named by AU_STORE (the job server's store)")
    .option(
      '--store <value>',
      'the store, like AU_STORE (default: $AU_STORE, else fs:$AU_DATA_DIR or fs:./.au-data)',
    )
    .addHelpText(
      'after',
      examples('  $ AU_STORE=redis://127.0.0.1:6379 au cleanup\n  $ au cleanup --store fs:./.au-data --json'),
    )
    .action((options: CleanupOptions, command: Command) => emit('cleanup', options, command));

  addSchedulesCommand(program, (options, command) => emit('schedules', options, command), examples);

  return program;
}

/** `au schedules list|show|create|pause|resume|delete`: one command with an action each. */
function addSchedulesCommand(
  program: Command,
  emit: (options: SchedulesOptions, command: Command) => void,
  examples: (lines: string) => string,
): void {
  const schedules = program
    .command('schedules')
    .description(
      'list, create, pause, resume and delete the schedules of the server (list without an action)',
    )
    .addHelpText(
      'after',
      examples(`  $ au schedules
  $ au schedules create factorial n=20 --every 5m
  $ au schedules create report --cron "0 9 * * 1" --timezone Europe/Paris --id weekly-report
  $ au schedules pause weekly-report
  $ au schedules delete weekly-report`),
    );
  schedules
    .command('list', { isDefault: true })
    .description('every schedule, with its next and last run')
    .action((_options: object, command: Command) => emit({ action: 'list' }, command));
  schedules
    .command('create')
    .description('create a schedule, or replace the one with the same id')
    .argument('<task>', 'the task name (see au tasks)')
    .argument('[input...]', 'the input as key=value pairs, as for au submit')
    .option('-i, --input <json>', 'the input as JSON, or @file.json')
    .option('--cron <expression>', 'cron expression: 5 fields, or 6 with seconds first')
    .option('--every <duration>', 'time between ticks instead of cron: 500ms, 30s, 5m, 1h, 1d', parseDuration)
    .option('--timezone <zone>', 'IANA time zone of --cron (default UTC)')
    .option('--id <id>', 'the schedule id (default: the task name)')
    .addOption(
      new Option('--overlap <policy>', 'a tick while the previous run is active (default skip)').choices([
        'skip',
        'allow',
        'queue',
      ]),
    )
    .option('--start-at <date>', 'no tick before this date (ISO 8601)', parseDate)
    .option('--end-at <date>', 'no tick after this date (ISO 8601)', parseDate)
    .option(
      '--catch-up <duration>',
      'missed ticks younger than this run after a restart (default 1m)',
      parseDuration,
    )
    .option('--tag <tag>', 'a tag of every run (repeat for more)', (tag: string, tags: string[] = []) => [
      ...tags,
      tag,
    ])
    .action((task: string, input: string[], options: Omit<SchedulesOptions, 'action'>, command: Command) =>
      emit({ ...options, action: 'create', task, pairs: input }, command),
    );
  for (const [action, description] of [
    ['show', 'show one schedule'],
    ['pause', 'stop a schedule firing until it is resumed'],
    ['resume', 'fire a paused schedule again from its next tick'],
    ['delete', 'remove a schedule (runs already launched go on)'],
  ] as const) {
    schedules
      .command(action)
      .description(description)
      .argument('<id>', 'the schedule id')
      .action((id: string, _options: object, command: Command) => emit({ action, id }, command));
  }
}

/** Parses `argv` (the arguments after `au`) without running anything. */
export function parseCommandLine(
  argv: readonly string[],
  { columns = 100 }: { columns?: number } = {},
): ParsedCommandLine {
  let parsed: ParsedCommandLine | undefined;
  let output = '';
  let error = '';
  const program = createProgram((command) => {
    parsed = command;
  });
  program.exitOverride();
  program.configureOutput({
    writeOut: (text) => {
      output += text;
    },
    writeErr: (text) => {
      error += text;
    },
    getOutHelpWidth: () => columns,
    getErrHelpWidth: () => columns,
  });
  for (const command of program.commands.flatMap((item) => [item, ...item.commands])) {
    command.exitOverride();
    command.configureOutput({
      writeOut: (text) => {
        output += text;
      },
      writeErr: (text) => {
        error += text;
      },
    });
  }
  try {
    program.parse([...argv], { from: 'user' });
  } catch (thrown) {
    if (thrown instanceof CommanderError) {
      const ok = thrown.code === 'commander.helpDisplayed' || thrown.code === 'commander.version';
      return { kind: 'exit', exitCode: ok ? EXIT_CODES.ok : EXIT_CODES.usage, output, error };
    }
    throw thrown;
  }
  return (
    parsed ?? { kind: 'exit', exitCode: EXIT_CODES.usage, output, error: error || program.helpInformation() }
  );
}

/** What `runCli` needs from the outside world. */
export interface RunCliOptions {
  io: Io;
  env: Readonly<Record<string, string | undefined>>;
  /** Aborted on Ctrl-C. */
  signal?: AbortSignal;
}

/** Runs `au` with `argv` (the arguments after `au`) and returns the exit code. */
export async function runCli(argv: readonly string[], { io, env, signal }: RunCliOptions): Promise<number> {
  const parsed = parseCommandLine(argv, { columns: io.columns });
  if (parsed.kind === 'exit') {
    if (parsed.output) io.out(parsed.output);
    if (parsed.error) io.err(parsed.error);
    return parsed.exitCode;
  }
  const { globals } = parsed;
  const url = (globals.url ?? env.AU_URL?.trim()) || DEFAULT_URL;
  const apiKey = (globals.apiKey ?? env.AU_API_KEY?.trim()) || undefined;
  const json = globals.json === true;
  const commandIo: Io = { ...io, color: io.color && globals.color !== false && !json };
  const context: CommandContext = {
    io: commandIo,
    json,
    url,
    apiKey,
    env,
    signal: signal ?? new AbortController().signal,
    client: () => {
      throw new Error('unreachable');
    },
  };
  try {
    context.client = await clientFactory(url, apiKey);
    const { run } = await COMMANDS[parsed.command]();
    return await run(parsed.options as never, context);
  } catch (error) {
    const explained = explainError(error, context);
    if (json) {
      io.out(`${JSON.stringify({ error: { code: explained.code, message: explained.message } })}\n`);
    }
    io.err(`au: ${explained.message}\n`);
    return explained.exitCode;
  }
}

async function clientFactory(
  url: string,
  apiKey: string | undefined,
): Promise<() => import('@au/client').AuClient> {
  if (!/^https?:\/\/[^/\s]+/i.test(url)) {
    throw new CliError({
      message: `"${url}" is not an http(s) URL: give the server as --url http://host:port (or set AU_URL)`,
      exitCode: EXIT_CODES.usage,
      code: 'INVALID_URL',
    });
  }
  const { AuClient } = await import('@au/client');
  let client: import('@au/client').AuClient | undefined;
  return () => {
    client ??= new AuClient({ url, ...(apiKey === undefined ? {} : { apiKey }) });
    return client;
  };
}

// ---- option parsers -----------------------------------------------------------------

function parseWait(value: string): number {
  const seconds = Number(value);
  if (value.trim() === '' || !Number.isFinite(seconds) || seconds < 0) {
    throw new InvalidArgumentError(
      'give a number of seconds (or --wait alone to wait until it ends); put key=value input before --wait',
    );
  }
  return seconds;
}

function parseSeconds(value: string): number {
  const seconds = Number(value);
  if (value.trim() === '' || !Number.isFinite(seconds) || seconds < 0) {
    throw new InvalidArgumentError(`give a number of seconds ≥ 0, got "${value}"`);
  }
  return seconds;
}

function parseTtl(value: string): number {
  const seconds = Number(value);
  if (value.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) {
    throw new InvalidArgumentError(`give a number of seconds > 0, got "${value}"`);
  }
  return seconds;
}

function parsePriority(value: string): number {
  const priority = Number(value);
  if (value.trim() === '' || !Number.isInteger(priority) || Math.abs(priority) > 1_000_000) {
    throw new InvalidArgumentError(`give a whole number from -1000000 to 1000000, got "${value}"`);
  }
  return priority;
}

function parseDelay(value: string): number {
  const ms = Number(value);
  if (value.trim() === '' || !Number.isInteger(ms) || ms < 0) {
    throw new InvalidArgumentError(`give a whole number of milliseconds ≥ 0, got "${value}"`);
  }
  return ms;
}

function collectTag(value: string, previous: string[] | undefined): string[] {
  const tags = value
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => tag.length > 0);
  if (tags.length === 0) throw new InvalidArgumentError('give a tag that is not empty');
  return [...(previous ?? []), ...tags];
}

function parseStatuses(value: string): string[] {
  const statuses = value
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter((item) => item.length > 0);
  const invalid = statuses.find((item) => !STATUSES.includes(item));
  if (invalid !== undefined || statuses.length === 0) {
    const suggestion = invalid === undefined ? undefined : closestName(invalid, STATUSES);
    throw new InvalidArgumentError(
      `${suggestion ? `did you mean "${suggestion}"? ` : ''}statuses are ${STATUSES.join(', ')} (comma-separated), got "${invalid ?? value}"`,
    );
  }
  return statuses;
}

function parseLimit(value: string): number {
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new InvalidArgumentError('give a whole number from 1 to 1000');
  }
  return limit;
}

function parseRetryable(value: string): ('failed' | 'cancelled')[] {
  const statuses = value
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter((item) => item.length > 0);
  const invalid = statuses.find((item) => item !== 'failed' && item !== 'cancelled');
  if (invalid !== undefined || statuses.length === 0) {
    throw new InvalidArgumentError(
      `only failed and cancelled computations are retried (comma-separated), got "${invalid ?? value}"`,
    );
  }
  return statuses as ('failed' | 'cancelled')[];
}

const AGE_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** An ISO 8601 time, or an age (`30m`, `2h`, `7d`) counted back from now: the time as ISO 8601. */
export function parseSince(value: string, now = Date.now()): string {
  const age = /^(\d+(?:\.\d+)?)([smhd])$/.exec(value.trim());
  if (age !== null) return new Date(now - Number(age[1]) * AGE_UNITS[age[2]!]!).toISOString();
  const time = Date.parse(value);
  if (value.trim() === '' || Number.isNaN(time)) {
    throw new InvalidArgumentError('give an ISO date (2026-01-31T12:00:00Z) or an age like 30m, 2h, 7d');
  }
  return new Date(time).toISOString();
}

function parsePositive(value: string): number {
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1) throw new InvalidArgumentError('give a whole number ≥ 1');
  return count;
}

function parseDeadLetterAction(value: string): DeadLettersOptions['action'] {
  if (value === 'list' || value === 'count' || value === 'purge') return value;
  const suggestion = closestName(value, ['list', 'count', 'purge']);
  throw new InvalidArgumentError(
    `${suggestion ? `did you mean "${suggestion}"? ` : ''}the action is list, count or purge, got "${value}"`,
  );
}

function parseInterval(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0.1 || seconds > 3600) {
    throw new InvalidArgumentError('give a number of seconds from 0.1 to 3600');
  }
  return seconds;
}

function parseDuration(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(value.trim());
  if (match === null) throw new InvalidArgumentError('give a duration such as 500ms, 30s, 5m, 1h or 1d');
  const size = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] ?? 'ms'] as number;
  return Math.round(Number(match[1]) * size);
}

function parseDate(value: string): number {
  const time = Date.parse(value);
  if (!Number.isFinite(time))
    throw new InvalidArgumentError('give a date in ISO 8601, e.g. 2026-01-31T09:00:00Z');
  return time;
}
