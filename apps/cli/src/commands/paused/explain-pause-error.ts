import { AuHttpError } from '@au/client';
import type { CommandContext } from '../../command-context';
import { CliError } from '../../errors/cli-error';
import { EXIT_CODES } from '../../exit-codes';
import { explainError } from '../../explain-error';

/** `explainError`, plus: a server whose backend cannot pause is a usage error (exit 2), not an outage. */
export function explainPauseError(error: unknown, context: Pick<CommandContext, 'url' | 'apiKey'>): CliError {
  if (AuHttpError.isInstance(error) && error.code === 'PAUSE_UNSUPPORTED') {
    return new CliError({
      message: `the server at ${context.url} cannot pause: its backend has no pause (use BullMQ, Postgres or a local backend)`,
      exitCode: EXIT_CODES.usage,
      code: 'PAUSE_UNSUPPORTED',
      cause: error,
    });
  }
  return explainError(error, context);
}
