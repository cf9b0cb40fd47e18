import { AuError, isAuErrorNamed } from './au-error';

/**
 * A launch named a key that already belongs to another computation: another task, or
 * the same task with a different input. Refused instead of silently handing back the
 * old computation; nothing is written. HTTP answers it 409.
 */
export class KeyConflictError extends AuError {
  readonly key: string;
  /** The task of this launch. */
  readonly task: string;
  /** The task of the computation that holds the key. */
  readonly existingTask: string;

  constructor({ key, task, existingTask }: { key: string; task: string; existingTask: string }) {
    const what =
      existingTask === task
        ? `a computation of "${task}" with another input`
        : `a computation of another task ("${existingTask}")`;
    super('AU_KEY_CONFLICT', {
      message: `[au] launch of "${task}": key "${key}" is already used by ${what}: use a new key for a new input, or the same input to join it`,
    });
    this.name = 'KeyConflictError';
    this.key = key;
    this.task = task;
    this.existingTask = existingTask;
  }

  static override isInstance(error: unknown): error is KeyConflictError {
    return isAuErrorNamed(error, 'KeyConflictError');
  }
}
