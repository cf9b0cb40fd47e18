import type { ListFilters, TaskStatus } from '@au/client';
import type { CommandContext } from '../../command-context';
import { EXIT_CODES } from '../../exit-codes';
import { explainError } from '../../explain-error';
import { formatTaskTable } from '../../format';

export interface ListOptions {
  status?: string[];
  task?: string;
  /** @default 20 */
  limit?: number;
  cursor?: string;
}

/** `au list`: computations as a table, newest first, with the command for the next page. */
export async function run(options: ListOptions, context: CommandContext): Promise<number> {
  const filters: ListFilters = { limit: options.limit ?? 20 };
  if (options.status !== undefined) filters.status = options.status as TaskStatus[];
  if (options.task !== undefined) filters.task = options.task;
  if (options.cursor !== undefined) filters.cursor = options.cursor;
  const page = await context
    .client()
    .list(filters)
    .catch((error: unknown) => {
      throw explainError(error, context);
    });
  if (context.json) {
    context.io.out(`${JSON.stringify(page)}\n`);
    return EXIT_CODES.ok;
  }
  if (page.items.length === 0) {
    context.io.err(options.cursor === undefined ? 'no computations match\n' : 'no more computations\n');
    return EXIT_CODES.ok;
  }
  context.io.out(`${formatTaskTable(context.io, page.items)}\n`);
  if (page.cursor !== undefined)
    context.io.err(`more: au list --cursor ${page.cursor}${repeatFilters(options)}\n`);
  return EXIT_CODES.ok;
}

function repeatFilters(options: ListOptions): string {
  let text = '';
  if (options.status !== undefined) text += ` --status ${options.status.join(',')}`;
  if (options.task !== undefined) text += ` --task ${options.task}`;
  if (options.limit !== undefined) text += ` --limit ${options.limit}`;
  return text;
}
