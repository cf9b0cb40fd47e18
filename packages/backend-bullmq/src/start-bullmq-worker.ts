import {
  CancelledError,
  ClosedError,
  type Codec,
  type ComputationStore,
  jsonCodec,
  type Middleware,
  silentLogger,
  type TaskDefinition,
  type TaskLogger,
  TaskNotFoundError,
  TaskRegistry,
} from '@au/core';
import { type ExecutionOutcome, executeComputation, loadTaskModules, serializeError } from '@au/core/kit';
import { type Job, UnrecoverableError, Worker, type WorkerOptions } from 'bullmq';
import { Redis } from 'ioredis';
import {
  AU_BACKOFF_TYPE,
  cancelChannel,
  fromJobId,
  type JobData,
  retryPolicyOf,
  toJobId,
} from './job-options';
import {
  closeConnection,
  type OpenedConnection,
  openConnection,
  type RedisConnection,
} from './redis-connection';

export interface BullMQWorkerOptions {
  /** Redis: a URL, ioredis options or an ioredis instance. @default 'redis://127.0.0.1:6379' */
  connection?: RedisConnection;
  /** The queue's name; the same as the producer's. @default 'au' */
  queue?: string;
  /** BullMQ's key prefix; the same as the producer's. @default 'bull' */
  prefix?: string;
  /** The tasks this worker runs: task modules (paths or URLs), task definitions, or a TaskRegistry. */
  tasks: TaskRegistry | readonly TaskDefinition[] | readonly (string | URL)[];
  /** Where the records live; the producers' store. */
  store: ComputationStore;
  /** Jobs run at once by this worker. @default 10 */
  concurrency?: number;
  /** Run-side middleware, outermost first. @default [] */
  middleware?: readonly Middleware[];
  /** Codec of tasks that name none; the producers' codec. @default jsonCodec */
  codec?: Codec;
  /** @default silentLogger */
  logger?: TaskLogger;
  /** Minimum ms between two progress writes of one computation. @default 100 */
  progressInterval?: number;
  /** Ms a job's lock lasts without renewal; a worker that dies loses its jobs after this. @default 30000 */
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

/** Thrown to BullMQ when the executor asks for another attempt; carries the delay it computed. */
class RetryScheduledError extends Error {
  readonly auRetryDelay: number;

  constructor(delay: number, cause: unknown) {
    super(`[au] [bullmq] attempt failed, retrying in ${delay} ms: ${(cause as Error)?.message ?? cause}`, {
      cause,
    });
    this.name = 'RetryScheduledError';
    this.auRetryDelay = delay;
  }
}

/**
 * Starts a BullMQ worker that runs au tasks by name through core's executor: it claims
 * the record (`pending → running`, or a `running` record left by a dead worker), runs
 * the task with its middleware, signal and timeout, and writes the result once. Retries
 * are BullMQ's own attempts, delayed by the au retry policy. A cancel broadcast over
 * Redis pub/sub aborts the job wherever it runs.
 */
export async function startBullMQWorker(options: BullMQWorkerOptions): Promise<BullMQWorker> {
  const queue = options.queue ?? 'au';
  const prefix = options.prefix ?? 'bull';
  const store = options.store;
  const logger = options.logger ?? silentLogger;
  const codec = options.codec ?? jsonCodec;
  const middleware = options.middleware ?? [];
  const registry = await toRegistry(options.tasks);
  /** Aborts of the jobs running here, by computation key. */
  const running = new Map<string, (reason: unknown) => void>();
  const connection = openConnection(options.connection ?? 'redis://127.0.0.1:6379', 'worker');

  const processor = async (job: Job<JobData>, _token?: string, signal?: AbortSignal): Promise<void> => {
    const key = fromJobId(job.id!);
    const task = registry.find(job.data.task);
    if (task === undefined) {
      const error = new TaskNotFoundError({
        task: job.data.task,
        where: `the task modules of this worker`,
        known: registry.names(),
      });
      await store.update(
        key,
        { status: 'failed', error: serializeError(error), finishedAt: Date.now() },
        { ifStatus: ['pending', 'running'] },
      );
      throw new UnrecoverableError(error.message);
    }
    // The executor hands over its abort (cheaper than an AbortController per job): a
    // cancel broadcast, BullMQ's own signal or a shutdown calls it.
    let abortExecution: ((reason: unknown) => void) | undefined;
    let abortedEarly: { reason: unknown } | undefined;
    const abort = (reason: unknown) => {
      if (abortExecution === undefined) abortedEarly ??= { reason };
      else abortExecution(reason);
    };
    running.set(key, abort);
    const onAbort = () => abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    let outcome: ExecutionOutcome;
    try {
      outcome = await executeComputation({
        store,
        key,
        task,
        codec: task.codec ?? codec,
        retry: retryPolicyOf(task, job.data),
        ...(job.data.timeout !== undefined
          ? { timeout: job.data.timeout }
          : task.timeout !== undefined
            ? { timeout: task.timeout }
            : {}),
        middleware,
        onAbortable: (abortNow) => {
          abortExecution = abortNow;
          if (abortedEarly !== undefined) abortNow(abortedEarly.reason);
        },
        logger,
        ...(options.progressInterval === undefined ? {} : { progressInterval: options.progressInterval }),
        retryMode: 'report',
        reclaimRunning: true,
      });
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (running.get(key) === abort) running.delete(key);
    }
    options.onOutcome?.(key, outcome);
    if (outcome.status === 'retry') throw new RetryScheduledError(outcome.delay, outcome.error);
    if (outcome.status === 'failed') {
      throw new UnrecoverableError(outcome.record?.error?.message ?? 'the task failed');
    }
  };

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
      backoffStrategy: (_attemptsMade: number, type?: string, error?: Error) =>
        type === AU_BACKOFF_TYPE ? ((error as RetryScheduledError | undefined)?.auRetryDelay ?? 0) : 0,
    },
    ...options.workerOptions,
  });
  worker.on('error', (error) =>
    logger.warn({ err: error }, `[au] [${NAME}] worker error (it reconnects on its own)`),
  );
  // A job BullMQ fails on its own (stalled too often, or an error outside the executor)
  // must not leave its record pending or running.
  worker.on('failed', (job, error) => {
    if (job === undefined || job.id === undefined) return;
    if (error instanceof RetryScheduledError || error?.name === 'RetryScheduledError') {
      if (job.attemptsMade < (job.opts.attempts ?? 1)) return;
    }
    void store
      .update(
        fromJobId(job.id),
        { status: 'failed', error: serializeError(error), finishedAt: Date.now() },
        { ifStatus: ['pending', 'running'] },
      )
      .catch((writeError: unknown) =>
        logger.error(
          { err: writeError, key: fromJobId(job.id!) },
          `[au] [${NAME}] could not record a failed job`,
        ),
      );
  });

  // Cancels of active jobs arrive as broadcasts: whichever worker holds the job aborts it.
  const given = options.connection ?? 'redis://127.0.0.1:6379';
  const subscriber: OpenedConnection =
    given instanceof Redis
      ? { redis: given.duplicate({ maxRetriesPerRequest: null }), owned: true }
      : openConnection(given, 'worker');
  subscriber.redis.on('error', () => undefined);
  const channel = cancelChannel(prefix, queue);
  subscriber.redis.on('message', (_channel: string, message: string) => {
    let request: { key?: string; reason?: string };
    try {
      request = JSON.parse(message) as { key?: string; reason?: string };
    } catch {
      return;
    }
    if (typeof request.key !== 'string') return;
    const abort = running.get(request.key);
    if (abort === undefined) return;
    abort(
      new CancelledError({
        key: request.key,
        ...(request.reason === undefined ? {} : { reason: request.reason }),
      }),
    );
    worker.cancelJob(toJobId(request.key), request.reason);
  });
  await subscriber.redis.subscribe(channel);
  await worker.waitUntilReady();

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
        await Promise.all([closeConnection(subscriber), closeConnection(connection)]);
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
