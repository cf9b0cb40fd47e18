import type { ComputationStore, TaskLogger } from '@au/core';
import { failComputation, type StoreRetryOptions } from '@au/core/kit';
import type { Job } from 'bullmq';
import { RecordedFailureError, RetryScheduledError } from './bullmq-signals';
import { JobAbandonedError } from './errors/job-abandoned-error';
import { computationKeyOf, type JobData } from './job-options';

export interface FailedJobRecorderSettings {
  queue: string;
  store: ComputationStore;
  logger: TaskLogger;
  storeRetry: StoreRetryOptions | undefined;
}

/**
 * Listens to BullMQ's `failed` event: a job BullMQ failed on its own (stalled too often,
 * out of attempts) ends its record `failed` with a `JobAbandonedError` that says why, so
 * the record never stays `pending` or `running` with no job left. The write retries
 * through a store outage of any length; `close` waits for the writes on their way, up to
 * its timeout, then stops them.
 */
export class FailedJobRecorder {
  readonly #settings: FailedJobRecorderSettings;
  readonly #writes = new Set<Promise<void>>();
  readonly #stop = new AbortController();

  constructor(settings: FailedJobRecorderSettings) {
    this.#settings = settings;
  }

  /** The `failed` listener. */
  readonly onFailed = (job: Job<JobData> | undefined, error: Error): void => {
    if (job?.id === undefined) return;
    // The processor recorded this failure itself.
    if (RecordedFailureError.isInstance(error)) return;
    // BullMQ retries the job: the record is `pending` again and waits for it.
    if (RetryScheduledError.isInstance(error) && job.attemptsMade < (job.opts.attempts ?? 1)) return;
    const key = computationKeyOf(job);
    const { store, queue, logger, storeRetry } = this.#settings;
    const reason = new JobAbandonedError({
      jobId: job.id,
      queue,
      reason: error?.message ?? String(error),
      cause: error,
    });
    // No give-back here: the job is gone, this write is the record's last chance. It keeps
    // trying through an outage of any length, until the worker closes.
    const retry: StoreRetryOptions = { ...storeRetry, timeout: Number.POSITIVE_INFINITY };
    const write = failComputation(
      store,
      key,
      { error: reason, from: 'active' },
      { logger, signal: this.#stop.signal, retry },
    ).then(
      (record) => {
        if (record !== undefined) logger.error({ key, jobId: job.id }, reason.message);
      },
      (writeError: unknown) =>
        logger.error(
          { err: writeError, key, jobId: job.id },
          `[au] [bullmq] computation "${key}": BullMQ failed its job (${reason.reason}) and the record could not be marked failed before the worker closed; it stays pending or running`,
        ),
    );
    this.#writes.add(write);
    void write.finally(() => this.#writes.delete(write));
  };

  /** Waits up to `timeout` ms for the writes on their way, then stops their retries. */
  async close(timeout: number): Promise<void> {
    if (this.#writes.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([...this.#writes]),
        new Promise((resolve) => {
          timer = setTimeout(resolve, timeout);
        }),
      ]);
      clearTimeout(timer);
    }
    this.#stop.abort();
  }
}
