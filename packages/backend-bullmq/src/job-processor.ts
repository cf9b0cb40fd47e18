import {
  type Codec,
  type ComputationStore,
  type Middleware,
  type TaskDefinition,
  type TaskLogger,
  TaskNotFoundError,
  type TaskRegistration,
  type TaskRegistry,
} from '@au/core';
import {
  type ExecutionOutcome,
  executeComputation,
  failComputation,
  isTransientStoreError,
  type LifecycleOptions,
  notifyDeadLetter,
  type StoreRetryOptions,
} from '@au/core/kit';
import { DelayedError, type Job } from 'bullmq';
import { RecordedFailureError, RetryScheduledError } from './bullmq-signals';
import { type FlowEntry, type FlowGate, flowGroupsOfJob } from './flow-gate';
import { computationKeyOf, type JobData, retryPolicyOf, scheduleOf } from './job-options';
import { prepareScheduledJob, type ScheduledJobSettings } from './scheduled-job';

export interface JobProcessorSettings {
  queue: string;
  store: ComputationStore;
  registry: TaskRegistry;
  /**
   * Tasks core registered with the backend of an embedded worker (`backend.register`):
   * they run with the codec, middleware, retry functions and logger of their launch.
   */
  registered?: (task: string) => TaskRegistration | undefined;
  codec: Codec;
  middleware: readonly Middleware[];
  logger: TaskLogger;
  progressInterval: number | undefined;
  storeRetry: StoreRetryOptions | undefined;
  /** First pause before a job given back runs again; doubles per give-back up to `MAX_GIVE_BACK_DELAY`. */
  giveBackDelay: number;
  /** Aborts of the jobs running here, by computation key (cancel broadcasts, shutdown). */
  running: Map<string, (reason: unknown) => void>;
  onOutcome: ((key: string, outcome: ExecutionOutcome) => void) | undefined;
  /** Where the jobs of job schedulers find their schedule, to create each tick's record. */
  scheduled: ScheduledJobSettings;
  /** Called as a job starts (before its record is claimed): it no longer waits in the queue. */
  onStart?: (job: Job<JobData>) => void;
  /**
   * Parks the job and resolves `true` when its task is paused (`paused-tasks.ts`): it is
   * not run and its record is not claimed.
   */
  parkIfPaused?: (job: Job<JobData>, task: string, token: string | undefined) => Promise<boolean>;
  /** Concurrency keys and rate limits: a job starts only once its groups let it. */
  flow: FlowGate;
}

/** The longest pause before a job given back during a store outage runs again. */
export const MAX_GIVE_BACK_DELAY = 30_000;

/**
 * The BullMQ processor of au jobs. It returns (BullMQ then acknowledges the job) only
 * once the record says how the computation ended, or when there is nothing to run; a
 * job whose record could not be written is given back to the queue (`moveToDelayed`,
 * no attempt counted) and claimed again later, never failed for an outage.
 */
export function createJobProcessor(settings: JobProcessorSettings) {
  const { store, registry, logger } = settings;
  const lifecycle: LifecycleOptions = {
    logger,
    ...(settings.storeRetry === undefined ? {} : { retry: settings.storeRetry }),
  };

  /** Puts the job back in the queue for later, then tells BullMQ it was moved (not failed). */
  const giveBack = async (
    job: Job<JobData>,
    token: string | undefined,
    key: string,
    error: unknown,
    why = 'its record could not be written',
  ) => {
    const delay = giveBackDelayOf(job, settings.giveBackDelay);
    logger.warn(
      { err: error, key, jobId: job.id, delay },
      `[au] [bullmq] computation "${key}": ${why} (${(error as Error)?.message ?? error}); the job goes back to queue "${settings.queue}" and runs again in ${delay} ms`,
    );
    try {
      await job.moveToDelayed(Date.now() + delay, token);
    } catch (moveError) {
      // The lock is gone (Redis lost it, or the job was handed out meanwhile): BullMQ's
      // stalled check gives the job out again once no worker holds it.
      logger.warn(
        { err: moveError, key, jobId: job.id },
        `[au] [bullmq] computation "${key}": could not give its job back; BullMQ's stalled check will hand it out again`,
      );
    }
    throw new DelayedError(`[au] [bullmq] computation "${key}" given back to the queue`);
  };

  /** The executor threw: its store writes failed past their retries, or it cannot run at all. */
  const settleThrown = async (job: Job<JobData>, token: string | undefined, key: string, error: unknown) => {
    if (isTransientStoreError(error)) return giveBack(job, token, key, error);
    // Not an outage (a corrupt record, a programming error): the computation cannot run.
    // When even that write fails (a closed store) the job goes back for another worker.
    let record: Awaited<ReturnType<typeof failComputation>>;
    try {
      record = await failComputation(store, key, { error, from: 'active' }, lifecycle);
    } catch (writeError) {
      return giveBack(job, token, key, writeError);
    }
    logger.error({ err: error, key }, `[au] [bullmq] computation "${key}" could not run`);
    if (record !== undefined) {
      await notifyDeadLetter(settings.middleware, record, logger);
      settings.onOutcome?.(key, { status: 'failed', record, error });
    }
    throw new RecordedFailureError((error as Error)?.message ?? String(error));
  };

  /**
   * Lets the job start under its concurrency and rate-limit groups, before its record is
   * claimed: a job that must wait goes back to the queue (delayed, no attempt counted)
   * and its record stays `pending`. Returns the slot to release, or `undefined` with no limits.
   */
  const enterFlow = async (
    job: Job<JobData>,
    token: string | undefined,
    key: string,
    task: TaskDefinition,
  ): Promise<Extract<FlowEntry, { kind: 'run' }> | undefined> => {
    const groups = flowGroupsOfJob(job.data, task);
    if (groups === undefined) return undefined;
    let entry: FlowEntry;
    try {
      entry = await settings.flow.enter(job, groups);
    } catch (error) {
      return giveBack(job, token, key, error, 'its concurrency or rate limit could not be checked');
    }
    if (entry.kind === 'run') {
      logger.debug(
        { key, jobId: job.id, at: entry.at, ...groups },
        `[au] [bullmq] computation "${key}" may start`,
      );
      return entry;
    }
    try {
      await job.moveToDelayed(Date.now() + entry.delay, token);
      if (entry.kind === 'park') await settings.flow.parked(job, groups);
    } catch (moveError) {
      logger.warn(
        { err: moveError, key, jobId: job.id },
        `[au] [bullmq] computation "${key}": could not delay its job; BullMQ's stalled check will hand it out again`,
      );
    }
    const why =
      entry.kind === 'park'
        ? `concurrency group "${groups.concurrency?.key}" is full`
        : `rate-limit group "${groups.rateLimit?.key}" is over its limit`;
    throw new DelayedError(`[au] [bullmq] computation "${key}" waits: ${why}`);
  };

  const failUnknownTask = async (job: Job<JobData>, token: string | undefined, key: string) => {
    const error = new TaskNotFoundError({
      task: job.data.task ?? job.name,
      where: `the task modules of the worker of queue "${settings.queue}"`,
      known: registry.names(),
    });
    let record: Awaited<ReturnType<typeof failComputation>>;
    try {
      record = await failComputation(store, key, { error, from: 'active' }, lifecycle);
    } catch (writeError) {
      return giveBack(job, token, key, writeError);
    }
    if (record === undefined) {
      logger.warn(
        { key, task: job.data.task },
        `[au] [bullmq] job "${job.id}" dropped: task "${job.data.task}" is unknown here and computation "${key}" is no longer pending or running`,
      );
      return;
    }
    logger.error({ key, task: job.data.task }, error.message);
    await notifyDeadLetter(settings.middleware, record, logger);
    settings.onOutcome?.(key, { status: 'failed', record, error });
    throw new RecordedFailureError(error.message);
  };

  const execute = (
    job: Job<JobData>,
    key: string,
    task: TaskDefinition,
    registration: TaskRegistration | undefined,
    signal: AbortSignal | undefined,
  ) => {
    // The executor hands over its abort (cheaper than an AbortController per job): a
    // cancel broadcast, BullMQ's own signal or a shutdown calls it.
    let abortExecution: ((reason: unknown) => void) | undefined;
    let abortedEarly: { reason: unknown } | undefined;
    const abort = (reason: unknown) => {
      if (abortExecution === undefined) abortedEarly ??= { reason };
      else abortExecution(reason);
    };
    settings.running.set(key, abort);
    const onAbort = () => abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const timeout = job.data.timeout ?? task.timeout;
    return executeComputation({
      store,
      key,
      task,
      codec: registration?.codec ?? task.codec ?? settings.codec,
      retry: retryPolicyOf(registration ?? task, job.data),
      ...(timeout === undefined ? {} : { timeout }),
      middleware: registration?.middleware ?? settings.middleware,
      onAbortable: (abortNow) => {
        abortExecution = abortNow;
        if (abortedEarly !== undefined) abortNow(abortedEarly.reason);
      },
      logger: registration?.logger ?? logger,
      ...(settings.progressInterval === undefined ? {} : { progressInterval: settings.progressInterval }),
      ...(settings.storeRetry === undefined ? {} : { storeRetry: settings.storeRetry }),
      retryMode: 'report',
      reclaimRunning: true,
    }).finally(() => {
      signal?.removeEventListener('abort', onAbort);
      if (settings.running.get(key) === abort) settings.running.delete(key);
    });
  };

  return async (job: Job<JobData>, token?: string, signal?: AbortSignal): Promise<void> => {
    const taskName = job.data.task ?? job.name;
    const key = computationKeyOf(job);
    // A parked job still waits to start: it stays counted for its task's maxQueued.
    let parked = false;
    try {
      parked = (await settings.parkIfPaused?.(job, taskName, token)) === true;
    } catch (error) {
      return giveBack(job, token, key, error, 'whether its task is paused could not be read');
    }
    if (parked) throw new DelayedError(`[au] [bullmq] job "${job.id}" parked: task "${taskName}" is paused`);
    const registration = settings.registered?.(taskName);
    const task = registration?.task ?? registry.find(taskName);
    if (scheduleOf(job) !== undefined) {
      // A job scheduler made this job: its tick gets a record before it runs (or fails).
      const codec = registration?.codec ?? task?.codec ?? settings.codec;
      const maxAttempts = task === undefined ? 1 : retryPolicyOf(registration ?? task, job.data).attempts;
      let prepared: boolean;
      try {
        prepared = await prepareScheduledJob(
          job,
          key,
          task ?? { name: taskName },
          { codec, maxAttempts, signal },
          settings.scheduled,
        );
      } catch (error) {
        if (isTransientStoreError(error)) return giveBack(job, token, key, error);
        throw error;
      }
      if (!prepared) return;
    }
    if (task === undefined) {
      settings.onStart?.(job);
      return failUnknownTask(job, token, key);
    }
    const slot = await enterFlow(job, token, key, task);
    settings.onStart?.(job);
    let outcome: ExecutionOutcome;
    try {
      outcome = await execute(job, key, task, registration, signal);
    } catch (error) {
      return settleThrown(job, token, key, error);
    } finally {
      // Every end of the attempt (done, failed, cancelled, retry backoff, given back) frees the slot.
      await slot?.release();
    }
    settings.onOutcome?.(key, outcome);
    if (outcome.status === 'retry') throw new RetryScheduledError(outcome.delay, outcome.error);
    if (outcome.status === 'failed') {
      throw new RecordedFailureError(outcome.record?.error?.message ?? 'the task failed');
    }
    if (outcome.status === 'skipped' && outcome.record === undefined) {
      logger.warn(
        { key, task: job.data.task },
        `[au] [bullmq] job "${job.id}" dropped: computation "${key}" has no record (it expired or was deleted, or the producer writes another store); nothing was run or written`,
      );
    }
  };
}

/**
 * The pause before a job given back runs again: `base` doubled per earlier give-back or
 * stall of this job (BullMQ counts starts, `attemptsStarted`, apart from ended attempts,
 * `attemptsMade`), up to `MAX_GIVE_BACK_DELAY`, with jitter so that the jobs of one
 * outage do not all come back at once.
 */
function giveBackDelayOf(job: Job, base: number): number {
  const earlier = Math.max(0, (job.attemptsStarted ?? 1) - job.attemptsMade - 1);
  const delay = Math.min(base * 2 ** Math.min(earlier, 20), MAX_GIVE_BACK_DELAY);
  return Math.round(delay * (0.75 + Math.random() / 2));
}
