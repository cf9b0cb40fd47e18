import { AuError } from '@au/core';

/**
 * A task ended its worker thread: it called `process.exit`, or an error escaped it
 * (thrown in a timer or a callback, where the task's promise could not catch it). The
 * computation ends `failed` with this error; the pool replaces the thread.
 */
export class ThreadCrashedError extends AuError {
  readonly task: string;
  readonly key: string;

  constructor({ task, key, cause }: { task: string; key: string; cause: unknown }) {
    super('AU_THREAD_CRASHED', {
      message: `[au] [threads] task "${task}" (computation "${key}") crashed its worker thread: ${describeCrash(cause)}. The pool replaced the thread; check the task for process.exit calls and for errors thrown in timers or callbacks`,
      cause,
    });
    this.name = 'ThreadCrashedError';
    this.task = task;
    this.key = key;
  }

  static override isInstance(error: unknown): error is ThreadCrashedError {
    return AuError.isInstance(error) && error.name === 'ThreadCrashedError';
  }
}

function describeCrash(cause: unknown): string {
  const message = cause instanceof Error ? cause.message : String(cause);
  const exit = /worker exited with code:? ?(-?\d+)/.exec(message);
  if (exit !== null) return `the thread exited with code ${exit[1]}`;
  const name = cause instanceof Error && cause.name !== 'Error' ? cause.name : 'Error';
  return `uncaught ${name}: ${message}`;
}
