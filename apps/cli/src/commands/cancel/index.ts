import type { CommandContext } from '../../command-context';
import { EXIT_CODES } from '../../exit-codes';
import { explainError } from '../../explain-error';

export interface CancelOptions {
  id: string;
}

/**
 * `au cancel <id>`: cancels a pending or running computation. Exit 0 either way; the
 * message (or `cancelled` in JSON) says whether it had already ended.
 */
export async function run(options: CancelOptions, context: CommandContext): Promise<number> {
  const answer = await context
    .client()
    .cancel(options.id)
    .catch((error: unknown) => {
      throw explainError(error, context, { id: options.id });
    });
  if (context.json) context.io.out(`${JSON.stringify(answer)}\n`);
  else if (answer.cancelled) context.io.out(`cancelled ${answer.taskId}\n`);
  else context.io.out(`${answer.taskId} had already ended (${answer.status}): nothing to cancel\n`);
  return EXIT_CODES.ok;
}
