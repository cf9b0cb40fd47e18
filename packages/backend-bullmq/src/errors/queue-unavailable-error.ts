import { AuError } from '@au/core';

const NAME = 'QueueUnavailableError';

/** The BullMQ queue's Redis did not accept the work in time: it is down or unreachable. */
export class QueueUnavailableError extends AuError {
  constructor({ operation, queue, cause }: { operation: string; queue: string; cause: unknown }) {
    super('AU_QUEUE_UNAVAILABLE', {
      message: `[au] [bullmq] ${operation} on queue "${queue}" failed: Redis is unreachable (${(cause as Error)?.message ?? String(cause)}); the work was not accepted, so launch it again once Redis is back (check AU_REDIS_URL / the backend's connection)`,
      cause,
    });
    this.name = NAME;
  }

  static override isInstance(error: unknown): error is QueueUnavailableError {
    return AuError.isInstance(error) && error.name === NAME;
  }
}
