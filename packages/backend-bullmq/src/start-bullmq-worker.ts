import {
  ClosedError,
  type Codec,
  type ComputationStore,
  type DeadLetterHook,
  jsonCodec,
  type Middleware,
  silentLogger,
  type TaskDefinition,
  type TaskLogger,
  type TaskRegistration,
  TaskRegistry,
} from '@au/core';
import {
  checkOptions,
  type ExecutionOutcome,
  loadTaskModules,
  optionNames,
  type StoreRetryOptions,
} from '@au/core/kit';
import { Queue, Worker, type WorkerOptions } from 'bullmq';
import type { RetryScheduledError } from './bullmq-signals';
import { cronRepeatStrategy } from './cron-repeat-strategy';
import { FailedJobRecorder } from './failed-job-recorder';
import { FlowGate } from './flow-gate';
import { AU_BACKOFF_TYPE, type JobData } from './job-options';
import { createJobProcessor } from './job-processor';
import { parkIfPaused } from './paused-tasks';
import { PausedTasksView } from './paused-tasks-view';
import { queuedJobsKey, untrackQueued } from './queued-jobs';
import { closeConnection, openConnection, type RedisConnection } from './redis-connection';
import { scheduleKeys } from './schedule-hash';
import { recordStoreBinding } from './store-binding';
import { listenForSignals } from './worker-signals';

export interface BullMQWorkerOptions {
  /** Redis: a URL, ioredis options or an ioredis instance. @default 'redis://127.0.0.1:6379' */
  connection?: RedisConnection;
  /** The queue's name; the same as the producer's. @default 'au' */
  queue?: string;
  /** BullMQ's key prefix; the same as the producer's. @default 'bull' */
  prefix?: string;
  /** The tasks this worker runs: task modules (paths or URLs), task definitions, or a TaskRegistry. */
  tasks: TaskRegistry | readonly TaskDefinition[] | readonly (string | URL)[];
  /**
   * Where the records live; the producers' store. Its `id` is recorded with the queue at
   * start-up, and a worker over another store is refused with `StoreMismatchError`.
   */
  store: ComputationStore;
  /** Jobs run at once by this worker. @default 10 */
  concurrency?: number;
  /** Run-side middleware, outermost first. @default [] */
  middleware?: readonly Middleware[];
  /**
   * Told when a computation this worker runs becomes a dead letter (failed for good, or a
   * task this worker does not have), and when this worker's stalled check finds a job that
   * stalled more than `maxStalledCount` times; a shorthand for a middleware with `deadLetter`.
   */
  onDeadLetter?: DeadLetterHook;
  /** Codec of tasks that name none; the producers' codec. @default jsonCodec */
  codec?: Codec;
  /** @default silentLogger */
  logger?: TaskLogger;
  /** Minimum ms between two progress writes of one computation. @default 100 */
  progressInterval?: number;
  /**
   * How long the claim and the final write of a computation keep trying through a store
   * outage; past that the job goes back to the queue and runs again later.
   * @default { timeout: 30000 } (core's default)
   */
  storeRetry?: StoreRetryOptions;
  /**
   * Ms before a job given back during a store outage runs again; doubles with each
   * give-back of the same job, up to 30 s. @default 1000
   */
  giveBackDelay?: number;
  /**
   * Ms a job's lock lasts without renewal; a worker that dies loses its jobs after this.
   * Also the lease of the concurrency slots its jobs hold (`TaskOptions.concurrency`).
   * @default 30000
   */
  lockDuration?: number;
  /** Ms between two checks for stalled jobs (jobs of dead workers). @default 30000 */
  stalledInterval?: number;
  /** Times a job may stall before BullMQ fails it (its record is then marked failed). @default 1 */
  maxStalledCount?: number;
  /** Called after each execution with the executor's outcome (metrics, logs, tests). */
  onOutcome?(key: string, outcome: ExecutionOutcome): void;
  /** Any other BullMQ worker option, applied last. */
  workerOptions?: Partial<WorkerOptions>;
}

/** Every option `startBullMQWorker` knows; anything else is refused. */
export const WORKER_OPTIONS = optionNames<BullMQWorkerOptions>({
  connection: true,
  queue: true,
  prefix: true,
  tasks: true,
  store: true,
  concurrency: true,
  middleware: true,
  onDeadLetter: true,
  codec: true,
  logger: true,
  progressInterval: true,
  storeRetry: true,
  giveBackDelay: true,
  lockDuration: true,
  stalledInterval: true,
  maxStalledCount: true,
  onOutcome: true,
  workerOptions: true,
});

/** A running BullMQ worker. */
export interface BullMQWorker {
  /** The BullMQ worker itself (events, pause, resume). */
  readonly worker: Worker;
  /** The tasks it runs. */
  readonly tasks: TaskRegistry;
  /** Jobs running now. */
  readonly runningCount: number;
  /**
   * Stops taking jobs and waits up to `timeout` ms for the running ones; past that the
   * worker closes without them: their locks lapse and BullMQ's stalled check gives them
   * to another worker (records stay `running` and are claimed again).
   */
  close(options?: { timeout?: number; abortRunning?: boolean }): Promise<void>;
}

const NAME = 'bullmq';
/** BullMQ's own default lock duration, in ms. */
const DEFAULT_LOCK_DURATION = 30_000;

/**
 * Starts a BullMQ worker that runs au tasks by name through core's executor: it claims
 * the record (`pending → running`, or a `running` record left by a dead worker), runs
 * the task with its middleware, signal and timeout, and writes the result once. Retries
 * are BullMQ's own attempts, delayed by the au retry policy. A cancel broadcast over
 * Redis pub/sub aborts the job wherever it runs. A job is acknowledged only once its
 * record is written; during a store outage it goes back to the queue instead.
 * Rejects with `StoreMismatchError` when the queue is bound to another store.
 */
export async function startBullMQWorker(options: BullMQWorkerOptions): Promise<BullMQWorker> {
  checkOptions(`[${NAME}] startBullMQWorker`, options, WORKER_OPTIONS);
  return startWorker(options, undefined);
}

/**
 * `startBullMQWorker`, plus the tasks core registered with the backend that embeds the
 * worker (they run as launched in this process, before the worker's own tasks).
 */
export async function startWorker(
  options: BullMQWorkerOptions,
  registered: ((task: string) => TaskRegistration | undefined) | undefined,
): Promise<BullMQWorker> {
  const queue = options.queue ?? 'au';
  const prefix = options.prefix ?? 'bull';
  const store = options.store;
  const logger = options.logger ?? silentLogger;
  const registry = await toRegistry(options.tasks);
  const given = options.connection ?? 'redis://127.0.0.1:6379';
  const connection = openConnection(given, 'worker');
  try {
    await recordStoreBinding(connection.redis, { prefix, queue, store, logger, component: `worker ${NAME}` });
  } catch (error) {
    await closeConnection(connection);
    throw error;
  }

  const running = new Map<string, (reason: unknown) => void>();
  const pausedPlace = { redis: connection.redis, prefix, queue };
  // Filled once the worker listens (below); until then every job asks Redis.
  const pausedTasks = new PausedTasksView(pausedPlace);
  // Adds the jobs of schedule ticks BullMQ skipped (see scheduled-job.ts).
  const tickQueue = new Queue<JobData>(queue, { connection: connection.redis, prefix });
  tickQueue.on('error', () => undefined);
  const middleware: readonly Middleware[] =
    options.onDeadLetter === undefined
      ? (options.middleware ?? [])
      : [...(options.middleware ?? []), { name: 'onDeadLetter', deadLetter: options.onDeadLetter }];
  const processor = createJobProcessor({
    queue,
    store,
    registry,
    ...(registered === undefined ? {} : { registered }),
    codec: options.codec ?? jsonCodec,
    middleware,
    logger,
    progressInterval: options.progressInterval,
    storeRetry: options.storeRetry,
    giveBackDelay: options.giveBackDelay ?? 1000,
    running,
    onOutcome: options.onOutcome,
    scheduled: {
      queue: tickQueue,
      repeatKey: `${prefix}:${queue}:repeat`,
      redis: connection.redis,
      keys: scheduleKeys(prefix, queue),
      store,
      logger,
    },
    parkIfPaused: (job, task, token) => parkIfPaused(pausedPlace, job, task, token, pausedTasks),
    flow: new FlowGate({
      redis: connection.redis,
      prefix,
      queue,
      // A slot lives as long as a job's lock: a dead worker's slots free when its jobs stall.
      lease: options.workerOptions?.lockDuration ?? options.lockDuration ?? DEFAULT_LOCK_DURATION,
      jobs: tickQueue,
      logger,
    }),
    // Only jobs counted for a task's maxQueued cost the extra command.
    onStart: (job) => {
      if (job.data.counted)
        void untrackQueued(connection.redis, queuedJobsKey(prefix, queue, job.name), [job.id!]);
    },
  });
  const worker = new Worker<JobData>(queue, processor, {
    connection: connection.redis,
    prefix,
    concurrency: options.concurrency ?? 10,
    autorun: true,
    removeOnComplete: { count: 0 },
    removeOnFail: { count: 0 },
    ...(options.lockDuration === undefined ? {} : { lockDuration: options.lockDuration }),
    ...(options.stalledInterval === undefined ? {} : { stalledInterval: options.stalledInterval }),
    ...(options.maxStalledCount === undefined ? {} : { maxStalledCount: options.maxStalledCount }),
    settings: {
      // The next tick of a cron schedule is computed here, when a tick's job starts.
      repeatStrategy: cronRepeatStrategy,
      backoffStrategy: (_attemptsMade: number, type?: string, error?: Error) =>
        type === AU_BACKOFF_TYPE ? ((error as RetryScheduledError | undefined)?.auRetryDelay ?? 0) : 0,
    },
    ...options.workerOptions,
  });
  worker.on('error', (error) =>
    logger.warn({ err: error }, `[au] [${NAME}] worker error (it reconnects on its own)`),
  );
  const failures = new FailedJobRecorder({
    queue,
    store,
    logger,
    storeRetry: options.storeRetry,
    middleware,
  });
  worker.on('failed', failures.onFailed);

  let stopListening: () => Promise<void>;
  try {
    stopListening = await listenForSignals({
      connection: given,
      prefix,
      queue,
      running,
      worker,
      paused: pausedTasks,
    });
    await worker.waitUntilReady();
  } catch (error) {
    await worker.close(true).catch(() => undefined);
    await tickQueue.close().catch(() => undefined);
    await closeConnection(connection);
    throw error;
  }

  let closing: Promise<void> | undefined;
  return {
    worker,
    tasks: registry,
    get runningCount() {
      return running.size;
    },
    close({ timeout = 10_000, abortRunning = false } = {}) {
      closing ??= (async () => {
        const graceful = worker.close();
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await Promise.race([
          graceful.then(() => false),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(true), timeout);
          }),
        ]);
        clearTimeout(timer);
        if (timedOut) {
          if (abortRunning) {
            const closed = new ClosedError({ component: `worker ${NAME}` });
            for (const abort of running.values()) abort(closed);
            await graceful.catch(() => undefined);
          } else await worker.close(true).catch(() => undefined);
        }
        await failures.close(Math.max(timeout, 1000));
        await tickQueue.close().catch(() => undefined);
        await Promise.all([stopListening(), closeConnection(connection)]);
      })();
      return closing;
    },
  };
}

async function toRegistry(tasks: BullMQWorkerOptions['tasks']): Promise<TaskRegistry> {
  if (tasks instanceof TaskRegistry) return tasks;
  const list = [...tasks];
  if (list.every((item) => typeof item === 'string' || item instanceof URL)) {
    return loadTaskModules(list as (string | URL)[], "this worker's task modules");
  }
  return new TaskRegistry(list as TaskDefinition[], "this worker's tasks");
}
