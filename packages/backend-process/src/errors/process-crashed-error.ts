import { AuError } from '@au/core';

/** How a worker process ended. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The error that escaped the task, when the process reported one before it died. */
  uncaught?: { name: string; message: string };
}

/**
 * A task ended its worker process: it called `process.exit`, an error escaped it
 * (thrown in a timer or a callback, where the task's promise could not catch it), or
 * the process was killed from outside. The computation ends `failed` with this error;
 * the pool starts another process for the next task.
 */
export class ProcessCrashedError extends AuError {
  readonly task: string;
  readonly key: string;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;

  constructor({ task, key, exit }: { task: string; key: string; exit: ProcessExit }) {
    super('AU_PROCESS_CRASHED', {
      message: `[au] [process] task "${task}" (computation "${key}") crashed its worker process: ${describeExit(exit)}. The pool starts a new process; check the task for process.exit calls and for errors thrown in timers or callbacks`,
    });
    this.name = 'ProcessCrashedError';
    this.task = task;
    this.key = key;
    this.exitCode = exit.code;
    this.signal = exit.signal;
  }

  static override isInstance(error: unknown): error is ProcessCrashedError {
    return AuError.isInstance(error) && error.name === 'ProcessCrashedError';
  }
}

function describeExit({ code, signal, uncaught }: ProcessExit): string {
  if (uncaught !== undefined) return `uncaught ${uncaught.name}: ${uncaught.message}`;
  if (signal !== null) return `the process was killed by ${signal}`;
  return `the process exited with code ${code}`;
}
