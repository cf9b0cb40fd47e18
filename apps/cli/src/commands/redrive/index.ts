import type { RedriveFilter } from '@au/client';
import type { CommandContext } from '../../command-context';
import { EXIT_CODES } from '../../exit-codes';
import { explainError } from '../../explain-error';

export interface RedriveOptions {
  task?: string;
  /** `failed`, `cancelled` or both. @default the server's: failed */
  status?: ('failed' | 'cancelled')[];
  /** ISO 8601 time: only computations that ended since then. */
  since?: string;
  tag?: string;
  limit?: number;
}

/**
 * `au redrive`: retries every failed (or cancelled) computation that matches. Exit 0 when
 * some were retried; 2 when nothing matches (the server's message says so).
 */
export async function run(options: RedriveOptions, context: CommandContext): Promise<number> {
  const filter: RedriveFilter = {};
  if (options.task !== undefined) filter.task = options.task;
  if (options.status !== undefined) filter.status = options.status;
  if (options.since !== undefined) filter.since = options.since;
  if (options.tag !== undefined) filter.tag = options.tag;
  if (options.limit !== undefined) filter.limit = options.limit;
  const result = await context
    .client()
    .redrive(filter)
    .catch((error: unknown) => {
      throw explainError(error, context);
    });
  if (context.json) {
    context.io.out(`${JSON.stringify(result)}\n`);
    return EXIT_CODES.ok;
  }
  context.io.out(`retrying ${result.count} computation${result.count === 1 ? '' : 's'}\n`);
  for (const id of result.taskIds) context.io.out(`  ${id}\n`);
  for (const error of result.errors) context.io.err(`could not retry ${error.taskId}: ${error.message}\n`);
  return EXIT_CODES.ok;
}
