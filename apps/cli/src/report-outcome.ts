import type { TaskOutcome } from '@au/client';
import type { CommandContext } from './command-context';
import { EXIT_CODES } from './exit-codes';
import { formatValue } from './format';
import { paint } from './io';

/**
 * Prints an outcome and returns the exit code: the result (0), the error of a failed or
 * cancelled computation (1), or where a still-running one stands and how to follow it (0).
 */
export function reportOutcome(context: CommandContext, outcome: TaskOutcome<unknown>, task?: string): number {
  const { io } = context;
  if (context.json) io.out(`${JSON.stringify(outcome)}\n`);
  if (outcome.status === 'completed') {
    if (!context.json) io.out(`${formatValue(outcome.result)}\n`);
    return EXIT_CODES.ok;
  }
  if (outcome.status === 'failed' || outcome.status === 'cancelled') {
    if (!context.json) {
      const what = `${task ? `${task} ` : ''}${outcome.taskId}`;
      io.err(
        `${paint(io, 'red', `✖ ${what} ${outcome.status}`)}: ${outcome.error.code}: ${outcome.error.message}\n`,
      );
      if (outcome.error.stack !== undefined) io.err(`${paint(io, 'dim', outcome.error.stack)}\n`);
    }
    return EXIT_CODES.failed;
  }
  if (!context.json) {
    io.err(
      `${outcome.taskId} is still ${outcome.status}: follow it with au result ${outcome.taskId} --wait\n`,
    );
  }
  return EXIT_CODES.ok;
}
