import type { CommandContext } from '../../command-context';
import { EXIT_CODES } from '../../exit-codes';
import { explainError } from '../../explain-error';
import { formatTaskView } from '../../format';

export interface StatusOptions {
  id: string;
}

/** `au status <id>`: status, progress, attempts and timestamps. Exit 1 when it failed or was cancelled. */
export async function run(options: StatusOptions, context: CommandContext): Promise<number> {
  const view = await context
    .client()
    .status(options.id)
    .catch((error: unknown) => {
      throw explainError(error, context, { id: options.id });
    });
  context.io.out(context.json ? `${JSON.stringify(view)}\n` : `${formatTaskView(context.io, view)}\n`);
  return view.status === 'failed' || view.status === 'cancelled' ? EXIT_CODES.failed : EXIT_CODES.ok;
}
