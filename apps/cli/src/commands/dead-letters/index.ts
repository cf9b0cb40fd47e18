import type { DeadLetterFilters } from '@au/client';
import type { CommandContext } from '../../command-context';
import { EXIT_CODES } from '../../exit-codes';
import { explainError } from '../../explain-error';
import { formatTaskTable } from '../../format';

export interface DeadLettersOptions {
  /** @default 'list' */
  action: 'list' | 'count' | 'purge';
  task?: string;
  tag?: string;
  /** `list`: page size. @default 20 */
  limit?: number;
  /** `list`: the next page. */
  cursor?: string;
  /** `purge`: only those that ended before this ISO 8601 time. */
  before?: string;
}

/**
 * `au dead-letters [list|count|purge]`: failed computations (retries spent, or never
 * started): a table of them, how many, or delete them.
 */
export async function run(options: DeadLettersOptions, context: CommandContext): Promise<number> {
  const client = context.client();
  const filters: DeadLetterFilters = {};
  if (options.task !== undefined) filters.task = options.task;
  if (options.tag !== undefined) filters.tag = options.tag;
  const explain = (error: unknown) => {
    throw explainError(error, context);
  };
  if (options.action === 'count') {
    const count = await client.countDeadLetters(filters).catch(explain);
    context.io.out(context.json ? `${JSON.stringify({ count })}\n` : `${count}\n`);
    return EXIT_CODES.ok;
  }
  if (options.action === 'purge') {
    const purged = await client
      .purgeDeadLetters({ ...filters, ...(options.before === undefined ? {} : { before: options.before }) })
      .catch(explain);
    context.io.out(
      context.json
        ? `${JSON.stringify({ purged })}\n`
        : `purged ${purged} dead letter${purged === 1 ? '' : 's'}\n`,
    );
    return EXIT_CODES.ok;
  }
  const page = await client
    .deadLetters({
      ...filters,
      limit: options.limit ?? 20,
      ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
    })
    .catch(explain);
  if (context.json) {
    context.io.out(`${JSON.stringify(page)}\n`);
    return EXIT_CODES.ok;
  }
  if (page.items.length === 0) {
    context.io.err(options.cursor === undefined ? 'no dead letters\n' : 'no more dead letters\n');
    return EXIT_CODES.ok;
  }
  context.io.out(`${formatTaskTable(context.io, page.items)}\n`);
  if (page.cursor !== undefined) {
    const repeat = `${options.task === undefined ? '' : ` --task ${options.task}`}${options.tag === undefined ? '' : ` --tag ${options.tag}`}`;
    context.io.err(`more: au dead-letters list --cursor ${page.cursor}${repeat}\n`);
  }
  return EXIT_CODES.ok;
}
