import type { ComputationStore, Middleware, TaskDefinition, TaskLogger, TaskRegistry } from '@au/core';

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
  /** @default silentLogger */
  logger?: TaskLogger;
}
