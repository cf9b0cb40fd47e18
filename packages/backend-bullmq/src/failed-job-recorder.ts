import type { ComputationStore, Middleware, TaskLogger } from '@au/core';
import { failComputation, notifyDeadLetter, type StoreRetryOptions } from '@au/core/kit';
import type { Job } from 'bullmq';
import { RecordedFailureError, RetryScheduledError } from './bullmq-signals';
import { JobAbandonedError } from './errors/job-abandoned-error';
import { computationKeyOf, type JobData } from './job-options';

export interface FailedJobRecorderSettings {
  queue: string;
  store: ComputationStore;
  logger: TaskLogger;
  storeRetry: StoreRetryOptions | undefined;
  /** Told of each record this recorder ends `failed` (the worker's `deadLetter` hooks). */
  middleware: readonly Middleware[];
}

/**
 * Listens to BullMQ's `failed` event: a job BullMQ failed on its own (stalled too often,
 * out of attempts) ends its record `failed` with a `JobAbandonedError` that says why, so
 * the record never stays `pending` or `running` with no job left, and announces it to the
 * worker's `deadLetter` hooks (only when this write ended it: BullMQ emits `failed` on the
 * one worker whose stalled check gave up, and a record already ended is left alone). The write retries
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
    const { store, queue, logger, storeRetry, middleware } = this.#settings;
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
      async (record) => {
        if (record === undefined) return;
        logger.error({ key, jobId: job.id }, reason.message);
        await notifyDeadLetter(middleware, record, logger);
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
