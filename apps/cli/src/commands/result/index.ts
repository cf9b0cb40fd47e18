import { awaitOutcome } from '../../await-outcome';
import type { CommandContext } from '../../command-context';
import { explainError } from '../../explain-error';
import { reportOutcome } from '../../report-outcome';

export interface ResultOptions {
  id: string;
  /** `--wait [seconds]`: `true` waits until the end; absent answers at once. */
  wait?: number | true;
}

/**
 * `au result <id> [--wait [seconds]]`: prints the result (exit 0), the error (exit 1),
 * or that it is still running (exit 0). With `--wait`, a progress bar follows the
 * computation's events while it runs.
 */
export async function run(options: ResultOptions, context: CommandContext): Promise<number> {
  const outcome =
    options.wait === undefined
      ? await context
          .client()
          .result(options.id)
          .catch((error: unknown) => {
            throw explainError(error, context, { id: options.id });
          })
      : await awaitOutcome(context, options.id, {
          timeout: options.wait === true ? undefined : options.wait,
        });
  return reportOutcome(context, outcome);
}
