import { AuError, isAuErrorNamed } from './au-error';

/**
 * A launch was refused because a bounded queue is full (`maxQueued` of the task or of the
 * backend). Nothing was written: no record exists and nothing runs. `retryAfter` (ms) is
 * a hint for when to try again (HTTP answers 429 with `Retry-After`).
 */
export class QueueFullError extends AuError {
  readonly task: string;
  /** The backend whose queue is full. */
  readonly backend: string;
  /** `'task'` when the task's own `maxQueued` was reached, `'backend'` for the backend's. */
  readonly scope: 'task' | 'backend';
  readonly limit: number;
  /** Computations waiting to start when the launch was refused. */
  readonly queued: number;
  /** Milliseconds after which a new try may succeed. */
  readonly retryAfter: number;

  constructor(options: {
    task: string;
    backend: string;
    scope: 'task' | 'backend';
    limit: number;
    queued: number;
    retryAfter?: number;
  }) {
    const whose = options.scope === 'task' ? `task "${options.task}"` : `backend ${options.backend}`;
    super('AU_QUEUE_FULL', {
      message: `[au] launch of task "${options.task}" refused: the queue of ${whose} is full (${options.queued} waiting, maxQueued ${options.limit}); retry later or raise maxQueued`,
    });
    this.name = 'QueueFullError';
    this.task = options.task;
    this.backend = options.backend;
    this.scope = options.scope;
    this.limit = options.limit;
    this.queued = options.queued;
    this.retryAfter = options.retryAfter ?? 1000;
  }

  static override isInstance(error: unknown): error is QueueFullError {
    return isAuErrorNamed(error, 'QueueFullError');
  }
}
