import { AuError, isAuErrorNamed } from './au-error';

/** A task was asked for by a name that the registry, backend or worker does not know. */
export class TaskNotFoundError extends AuError {
  readonly task: string;
  readonly known: readonly string[];

  constructor({ task, where, known = [] }: { task: string; where: string; known?: readonly string[] }) {
    const list = known.length > 0 ? ` Known tasks: ${known.slice(0, 20).join(', ')}.` : '';
    super('AU_TASK_NOT_FOUND', {
      message: `[au] task "${task}" is not in ${where}.${list} Define it with defineTask and add its module.`,
    });
    this.name = 'TaskNotFoundError';
    this.task = task;
    this.known = known;
  }

  static override isInstance(error: unknown): error is TaskNotFoundError {
    return isAuErrorNamed(error, 'TaskNotFoundError');
  }
}
