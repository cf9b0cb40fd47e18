import type { CommandContext } from '../../command-context';
import { EXIT_CODES } from '../../exit-codes';
import { explainPauseError } from '../paused/explain-pause-error';
import { printPausedState } from '../paused/index';

export interface PauseOptions {
  /** The task to pause; without it, the whole queue. */
  task?: string;
}

/**
 * `au pause [task]`: stops starting the task (or, without one, any task) on every worker
 * of the server's backend; waiting computations stay pending until `au resume`.
 */
export async function run(options: PauseOptions, context: CommandContext): Promise<number> {
  const client = context.client();
  const state = await (options.task === undefined
    ? client.pauseQueue()
    : client.pauseTask(options.task)
  ).catch((error: unknown) => {
    throw explainPauseError(error, context);
  });
  if (!context.json) {
    context.io.err(
      options.task === undefined
        ? 'paused the whole queue: running work finishes, nothing else starts until au resume\n'
        : `paused task ${options.task}: its waiting computations stay pending until au resume ${options.task}\n`,
    );
  }
  printPausedState(state, context);
  return EXIT_CODES.ok;
}
