import { AuHttpError } from '@au/client';
import { closestName } from '@au/core/kit';
import { awaitOutcome } from '../../await-outcome';
import type { CommandContext } from '../../command-context';
import { CliError } from '../../errors/cli-error';
import { EXIT_CODES } from '../../exit-codes';
import { explainError } from '../../explain-error';
import { parseInput } from '../../parse-input';
import { reportOutcome } from '../../report-outcome';

export interface SubmitOptions {
  task: string;
  /** `key=value` pairs of the input. */
  pairs: string[];
  /** `--input`: JSON or `@file.json`. */
  input?: string;
  /** `--wait [seconds]`: `true` waits until the end. @default until the end */
  wait?: number | true;
  /** `--async`: print the id and return. */
  async?: boolean;
  /** `--key`: your own id, sent as `Idempotency-Key`. */
  key?: string;
  /** `--idempotency-key`: the same as `--key`. */
  idempotencyKey?: string;
  /** `--idempotency-window <seconds>` (with a key). */
  idempotencyWindow?: number;
  /** `--priority <n>`. */
  priority?: number;
  /** `--delay <ms>`. */
  delay?: number;
  /** `--tag <tag>`, repeated. */
  tag?: string[];
  /** `--ttl <seconds>`. */
  ttl?: number;
  /** `--depends-on a,b`: ids this computation waits for. */
  dependsOn?: string[];
}

/**
 * `au submit <task> [key=value…]`: launches the task, then (unless `--async`) waits
 * for it with a progress bar and prints its result. Exit 1 when it fails.
 */
export async function run(options: SubmitOptions, context: CommandContext): Promise<number> {
  if (options.async && options.wait !== undefined) {
    throw new CliError({
      message:
        '--async and --wait do not go together: --async prints the id at once, --wait waits for the result',
      exitCode: EXIT_CODES.usage,
    });
  }
  const input = parseInput(options.input, options.pairs);
  const launch = launchOptions(options);
  const client = context.client();
  let accepted: { taskId: string; status: string };
  try {
    accepted = await client.submit(options.task, input, { async: true, ...launch });
  } catch (error) {
    if (AuHttpError.isInstance(error) && error.code === 'TASK_NOT_FOUND') {
      throw await unknownTask(context, options.task, error);
    }
    if (AuHttpError.isInstance(error) && error.code === 'KEY_CONFLICT') {
      throw new CliError({
        message: `key "${launch.idempotencyKey}" already names a computation with another input (or of another task): use a new --key, or the same input to join it`,
        exitCode: EXIT_CODES.usage,
        code: 'KEY_CONFLICT',
        cause: error,
      });
    }
    throw explainError(error, context);
  }
  if (options.async) {
    context.io.out(context.json ? `${JSON.stringify(accepted)}\n` : `${accepted.taskId}\n`);
    return EXIT_CODES.ok;
  }
  const outcome = await awaitOutcome(context, accepted.taskId, {
    timeout: typeof options.wait === 'number' ? options.wait : undefined,
  });
  return reportOutcome(context, outcome, options.task);
}

/** The client's launch options from the flags; `--key` and `--idempotency-key` must agree. */
function launchOptions(options: SubmitOptions): LaunchFlags {
  if (
    options.key !== undefined &&
    options.idempotencyKey !== undefined &&
    options.key !== options.idempotencyKey
  ) {
    throw new CliError({
      message: '--key and --idempotency-key name the same thing: give one',
      exitCode: EXIT_CODES.usage,
    });
  }
  const key = options.key ?? options.idempotencyKey;
  if (options.idempotencyWindow !== undefined && key === undefined) {
    throw new CliError({ message: '--idempotency-window needs --key', exitCode: EXIT_CODES.usage });
  }
  const launch: LaunchFlags = {};
  if (key !== undefined) launch.idempotencyKey = key;
  if (options.idempotencyWindow !== undefined) launch.idempotencyWindow = options.idempotencyWindow;
  if (options.priority !== undefined) launch.priority = options.priority;
  if (options.delay !== undefined) launch.delay = options.delay;
  if (options.tag !== undefined) launch.tags = options.tag;
  if (options.ttl !== undefined) launch.ttl = options.ttl;
  if (options.dependsOn !== undefined && options.dependsOn.length > 0) launch.dependsOn = options.dependsOn;
  return launch;
}

interface LaunchFlags {
  idempotencyKey?: string;
  dependsOn?: string[];
  idempotencyWindow?: number;
  priority?: number;
  delay?: number;
  tags?: string[];
  ttl?: number;
}

async function unknownTask(context: CommandContext, task: string, cause: unknown): Promise<CliError> {
  const names = await context
    .client()
    .tasks()
    .then((tasks) => tasks.map((item) => item.name))
    .catch(() => [] as string[]);
  const suggestion = closestName(task, names);
  const served = names.length > 0 ? `it runs ${names.join(', ')}` : 'see au tasks';
  return new CliError({
    message: `no task "${task}" on ${context.url}${suggestion ? `: did you mean "${suggestion}"?` : ''} (${served})`,
    exitCode: EXIT_CODES.usage,
    code: 'TASK_NOT_FOUND',
    cause,
  });
}
