import type { CommandContext } from '../../command-context';
import { EXIT_CODES } from '../../exit-codes';
import { explainPauseError } from '../paused/explain-pause-error';
import { printPausedState } from '../paused/index';

export interface ResumeOptions {
  /** The task to resume; without it, the whole queue (tasks paused one by one stay paused). */
  task?: string;
}

/** `au resume [task]`: starts the task (or the whole queue) again after `au pause`. */
export async function run(options: ResumeOptions, context: CommandContext): Promise<number> {
  const client = context.client();
  const state = await (options.task === undefined
    ? client.resumeQueue()
    : client.resumeTask(options.task)
  ).catch((error: unknown) => {
    throw explainPauseError(error, context);
  });
  if (!context.json) {
    context.io.err(options.task === undefined ? 'resumed the queue\n' : `resumed task ${options.task}\n`);
  }
  printPausedState(state, context);
  return EXIT_CODES.ok;
}
