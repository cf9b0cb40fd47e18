import { AuError } from '@au/core';

const NAME = 'JobAbandonedError';

/**
 * BullMQ failed a job on its own before the computation ended (the job stalled too often,
 * or it ran out of attempts): the record is failed with this error, so it never stays
 * `pending` or `running` with no job left to run it.
 */
export class JobAbandonedError extends AuError {
  readonly jobId: string;
  readonly queue: string;
  /** BullMQ's reason, e.g. `job stalled more than allowable limit`. */
  readonly reason: string;

  constructor({
    jobId,
    queue,
    reason,
    cause,
  }: { jobId: string; queue: string; reason: string; cause?: unknown }) {
    super('AU_JOB_ABANDONED', {
      message: `[au] [bullmq] BullMQ gave up on job "${jobId}" of queue "${queue}" before its computation ended: ${reason}. ${hintFor(reason)}`,
      cause,
    });
    this.name = NAME;
    this.jobId = jobId;
    this.queue = queue;
    this.reason = reason;
  }

  static override isInstance(error: unknown): error is JobAbandonedError {
    return AuError.isInstance(error) && error.name === NAME;
  }
}

function hintFor(reason: string): string {
  if (/stalled/i.test(reason)) {
    return 'Its worker stopped renewing the job lock more than maxStalledCount times (the worker died, or a task blocked its event loop longer than lockDuration): keep tasks from blocking the event loop, or raise lockDuration or maxStalledCount';
  }
  if (/attempt/i.test(reason))
    return 'BullMQ ran out of attempts before the retry policy did: launch it again';
  return "Look at the worker's logs for this job";
}
