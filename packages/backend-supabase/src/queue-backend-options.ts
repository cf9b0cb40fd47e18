import type {
  ComputationStore,
  DeadLetterHook,
  Middleware,
  TaskDefinition,
  TaskLogger,
  TaskRegistry,
} from '@au/core';
import type { StoreRetryOptions } from '@au/core/kit';

/** Options shared by `PostgresQueueBackend` and `SupabaseQueueBackend`. */
export interface QueueBackendOptions {
  /**
   * Where records live for work launched by other processes. Work launched through this
   * backend uses the store it was launched with. @default a store over the same connection and schema
   */
  store?: ComputationStore;
  /**
   * The tasks this process's workers run by name: a registry, task definitions, or
   * task module paths / URLs. When given, launching a task not among them is refused.
   * Without it, workers here run only work launched here.
   */
  tasks?: TaskRegistry | readonly TaskDefinition[] | readonly (string | URL)[];
  /**
   * Most entries of this queue that may wait to start (delayed ones included); a launch
   * past it is refused with `QueueFullError` before anything is written. @default no limit
   */
  maxQueued?: number;
  /** Run workers in this process (false: a producer only). @default true */
  worker?: boolean;
  /** Computations running at once in this process. @default 10 */
  maxConcurrentTasks?: number;
  /** Milliseconds between two polls of the queue (±50 % jitter). @default 1000 */
  pollingInterval?: number;
  /** Milliseconds a claim is leased; a worker that stops renewing it loses the work to another. @default 30000 */
  leaseMs?: number;
  /** Milliseconds between two lease renewals; a cancel is noticed at the next one. @default leaseMs / 3 */
  heartbeatInterval?: number;
  /** Name of the queue inside the tables (several apps may share one schema). @default 'default' */
  queue?: string;
  /** Times a computation is re-queued after its worker died before it is failed. @default 3 */
  maxLeaseExpiries?: number;
  /** Run-side middleware for work launched by other processes. @default [] */
  middleware?: readonly Middleware[];
  /**
   * Told when a computation this backend's workers run becomes a dead letter (failed for
   * good, or a task the worker does not have), for work launched by other processes, and
   * when a worker's claim fails one whose lease lapsed more than `maxLeaseExpiries` times;
   * a shorthand for a middleware with `deadLetter`.
   */
  onDeadLetter?: DeadLetterHook;
  /** @default silentLogger */
  logger?: TaskLogger;
  /**
   * How long a worker's record writes (claim, result, failure, re-queue) keep trying
   * through a store outage before its delivery is given back to the queue.
   * @default 30 s of backoff from 50 ms doubling to 2 s
   */
  storeRetry?: StoreRetryOptions;
}

/** Every option of `QueueBackendOptions`, for `checkOptions` (the compiler keeps it complete). */
export const QUEUE_BACKEND_OPTION_NAMES: { [K in keyof Required<QueueBackendOptions>]: true } = {
  store: true,
  tasks: true,
  worker: true,
  maxQueued: true,
  maxConcurrentTasks: true,
  pollingInterval: true,
  leaseMs: true,
  heartbeatInterval: true,
  queue: true,
  maxLeaseExpiries: true,
  middleware: true,
  onDeadLetter: true,
  logger: true,
  storeRetry: true,
};
