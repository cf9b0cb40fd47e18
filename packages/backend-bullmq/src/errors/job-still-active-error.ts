import { AuError } from '@au/core';

const NAME = 'JobStillActiveError';

/**
 * A retry found the computation's previous job still active on a worker (a cancel the
 * worker has not seen yet) for longer than the backend's `launchTimeout`: BullMQ keeps one
 * job per id, so the new attempt could not be queued. The record ends failed again.
 */
export class JobStillActiveError extends AuError {
  readonly jobId: string;
  readonly queue: string;

  constructor({ jobId, queue }: { jobId: string; queue: string }) {
    super('AU_JOB_STILL_ACTIVE', {
      message: `[au] [bullmq] job "${jobId}" of queue "${queue}" is still active on a worker, so its retry could not be queued: retry again once that worker has stopped it`,
    });
    this.name = NAME;
    this.jobId = jobId;
    this.queue = queue;
  }

  static override isInstance(error: unknown): error is JobStillActiveError {
    return AuError.isInstance(error) && error.name === NAME;
  }
}
