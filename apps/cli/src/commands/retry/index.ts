import type { CommandContext } from '../../command-context';
import { EXIT_CODES } from '../../exit-codes';
import { explainError } from '../../explain-error';

export interface RetryOptions {
  id: string;
}

/**
 * `au retry <id>`: runs a failed or cancelled computation again under its id. Exit 0 once
 * the server has re-opened it; 2 when it may not be retried (pending, running, completed),
 * 3 when the id is unknown.
 */
export async function run(options: RetryOptions, context: CommandContext): Promise<number> {
  const view = await context
    .client()
    .retry(options.id)
    .catch((error: unknown) => {
      throw explainError(error, context, { id: options.id });
    });
  if (context.json) context.io.out(`${JSON.stringify(view)}\n`);
  else {
    const ended = view.history?.[view.history.length - 1];
    context.io.out(
      `retrying ${view.taskId}${ended === undefined ? '' : ` (attempt ${ended.attempt} ${ended.status})`}: follow it with au result ${view.taskId} --wait\n`,
    );
  }
  return EXIT_CODES.ok;
}
