import type { TaskOutcome, TaskView } from '@au/client';
import { progressFraction } from '@au/client';
import { SingleBar } from 'cli-progress';
import type { CommandContext } from './command-context';
import { explainError } from './explain-error';

export interface AwaitOutcomeOptions {
  /** Seconds to wait at most; `undefined` waits until the computation ends (or Ctrl-C). */
  timeout?: number | undefined;
}

/**
 * Waits for a computation to end, following its server-sent events; on a terminal a
 * progress bar (on standard error) moves with them. Returns the outcome: the result,
 * the error, or, when the wait ran out or was interrupted, the current status.
 */
export async function awaitOutcome(
  context: CommandContext,
  taskId: string,
  options: AwaitOutcomeOptions = {},
): Promise<TaskOutcome<unknown>> {
  const client = context.client();
  const controller = new AbortController();
  const stop = () => controller.abort();
  context.signal.addEventListener('abort', stop, { once: true });
  const timer = options.timeout === undefined ? undefined : setTimeout(stop, options.timeout * 1000);
  const bar = context.io.interactive && !context.json ? createBar(context) : undefined;
  try {
    try {
      for await (const event of client.events(taskId, { signal: controller.signal })) {
        bar?.update(event.task);
      }
    } catch (error) {
      if (!controller.signal.aborted) {
        const explained = explainError(error, context, { id: taskId });
        if (['UNAUTHORIZED', 'NOT_FOUND', 'NOT_AN_AU_SERVER'].includes(explained.code)) throw explained;
        // A broken stream is not the end: fall back to asking for the result.
        await pollUntilDone(context, taskId, controller.signal);
      }
    }
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    context.signal.removeEventListener('abort', stop);
    bar?.stop();
  }
  try {
    return await client.result(taskId);
  } catch (error) {
    throw explainError(error, context, { id: taskId });
  }
}

async function pollUntilDone(context: CommandContext, taskId: string, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    const outcome = await context
      .client()
      .result(taskId, { wait: 10, signal })
      .catch((error: unknown) => {
        if (signal.aborted) return undefined;
        throw explainError(error, context, { id: taskId });
      });
    if (outcome === undefined || (outcome.status !== 'pending' && outcome.status !== 'running')) return;
  }
}

interface Bar {
  update(view: TaskView): void;
  stop(): void;
}

function createBar(context: CommandContext): Bar {
  const bar = new SingleBar({
    stream: context.io.barStream ?? process.stderr,
    format: ' {bar} {percentage}% | {status} {task} {taskId}',
    barCompleteChar: '█',
    barIncompleteChar: '░',
    hideCursor: true,
    clearOnComplete: true,
    stopOnComplete: false,
  });
  let started = false;
  return {
    update(view) {
      const fraction = progressFraction(view.progress);
      const value = view.status === 'completed' ? 100 : Math.round((fraction ?? 0) * 100);
      const payload = { status: view.status, task: view.task, taskId: view.taskId };
      if (!started) {
        bar.start(100, value, payload);
        started = true;
      } else {
        bar.update(value, payload);
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
