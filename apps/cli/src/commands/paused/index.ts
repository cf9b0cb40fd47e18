import type { PausedState } from '@au/client';
import type { CommandContext } from '../../command-context';
import { EXIT_CODES } from '../../exit-codes';
import { explainPauseError } from './explain-pause-error';

export type PausedOptions = Record<string, never>;

/** `au paused`: what is paused on the server's backend, the whole queue and tasks one by one. */
export async function run(_options: PausedOptions, context: CommandContext): Promise<number> {
  const state = await context
    .client()
    .pauses()
    .catch((error: unknown) => {
      throw explainPauseError(error, context);
    });
  printPausedState(state, context);
  return EXIT_CODES.ok;
}

/** The state as `au paused`, `au pause` and `au resume` print it (JSON with `--json`). */
export function printPausedState(state: PausedState, context: CommandContext): void {
  if (context.json) {
    context.io.out(`${JSON.stringify(state)}\n`);
    return;
  }
  context.io.out(`queue: ${state.queue ? 'paused (no task starts)' : 'running'}\n`);
  context.io.out(
    state.tasks.length === 0 ? 'tasks paused: none\n' : `tasks paused: ${state.tasks.join(', ')}\n`,
  );
}
