import { AuError } from '@au/core';

const NAME = 'PreviousJobActiveError';

/**
 * A key ran again past its idempotency window while the job of its previous run was still
 * active in BullMQ (its record had ended, its worker had not let the job go): the new
 * run could not be queued under the same job id. The new record is marked failed.
 */
export class PreviousJobActiveError extends AuError {
  readonly key: string;

  constructor({ key, queue }: { key: string; queue: string }) {
    super('AU_PREVIOUS_JOB_ACTIVE', {
      message: `[au] [bullmq] key "${key}" runs again but the job of its previous run is still active on queue "${queue}" (a worker is finishing it or died holding it): launch it again once that job is gone`,
    });
    this.name = NAME;
    this.key = key;
  }

  static override isInstance(error: unknown): error is PreviousJobActiveError {
    return AuError.isInstance(error) && error.name === NAME;
  }
}
