import { UnrecoverableError } from 'bullmq';

// What the processor throws to tell BullMQ how an execution ended. None of them reaches users:
// the record says what happened.

/** The executor asked for another attempt (the record is `pending` again); carries the delay it computed. */
export class RetryScheduledError extends Error {
  readonly auRetryDelay: number;

  constructor(delay: number, cause: unknown) {
    super(`[au] [bullmq] attempt failed, retrying in ${delay} ms: ${(cause as Error)?.message ?? cause}`, {
      cause,
    });
    this.name = 'RetryScheduledError';
    this.auRetryDelay = delay;
  }

  static isInstance(error: unknown): error is RetryScheduledError {
    return (error as Error | undefined)?.name === 'RetryScheduledError';
  }
}

/**
 * The computation ended `failed` and its record says so: BullMQ must not retry the job,
 * and the `failed` listener has nothing to write.
 */
export class RecordedFailureError extends UnrecoverableError {
  readonly auRecorded = true;

  constructor(message: string) {
    super(message);
    // BullMQ also recognises an unrecoverable error by this name.
    this.name = 'UnrecoverableError';
  }

  static isInstance(error: unknown): error is RecordedFailureError {
    return (error as { auRecorded?: unknown } | undefined)?.auRecorded === true;
  }
}
