import type { ConcurrencyGroup, RateLimitGroup } from '../flow/flow-limits';
import type { ComputationRecord } from '../record';
import type { RetryPolicy, RetrySpec } from '../retry-policy';
import type { TaskDefinition, TaskLogger } from '../task';
import type { Codec } from './codec';
import type { Middleware } from './middleware';
import type { ComputationScheduler, SchedulerContext } from './scheduler';
import type { ComputationStore } from './store';

/**
 * What a caller hands a backend: one computation whose `pending` record is already in
 * the store the backend is bound to. Plain serializable data, so that the same thing
 * crosses to a thread, a process, Redis or Postgres; a backend finds the task itself by
 * name (its task modules, or the tasks core registered with it).
 */
export interface Invocation {
  key: string;
  /** The task's name. */
  task: string;
  /** The arguments, encoded by the task's codec (the record's `args`). */
  args: unknown;
  /** Higher runs first. @default 0 */
  priority: number;
  /** Do not start before this time (ms since the epoch). */
  runAt?: number;
  /** Per-attempt time limit in ms. */
  timeout?: number;
  /** The serializable part of the retry policy; functions stay with the task. */
  retry: RetrySpec;
  /** Seconds the record is kept after it ends. */
  ttl?: number;
  /**
   * The key ran before and runs again: a relaunch past its idempotency window, or a
   * retry (`retryComputation`) of a failed or cancelled computation. An engine that keeps
   * jobs by computation key (an ended one, or one whose cancel has not landed yet) must
   * drop the old job first, or the new work would be taken for a duplicate and never run.
   */
  replaces?: boolean;
  /**
   * The task's concurrency group (`TaskOptions.concurrency`), computed at launch: at most
   * `limit` computations of `key` may run at once across every worker of the backend.
   * Enforced by the backend; a slot held by a dead worker frees when its lease expires.
   */
  concurrency?: ConcurrencyGroup;
  /**
   * The task's rate-limit group (`TaskOptions.rateLimit`), computed at launch: at most
   * `limit` starts of `key` per `interval` ms across every worker. The backend delays work
   * over the limit; it never refuses it.
   */
  rateLimit?: RateLimitGroup;
}

/**
 * How a task runs in this process, registered by core with a backend that runs
 * functions of the caller's process (`register`): the task definition and the run-side
 * settings of the `asyncCompute` or `submitTask` that launched it.
 */
export interface TaskRegistration {
  task: TaskDefinition;
  codec: Codec;
  /** Run-side middleware, outermost first. */
  middleware: readonly Middleware[];
  /** The launch's retry policy, with its functions (`retryOn`, a backoff function). */
  retry: RetryPolicy;
  logger?: TaskLogger;
}

/**
 * # ComputationBackend
 *
 * Where computations run. A backend accepts invocations, runs each through core's one
 * executor (`executeComputation`) so that status, retries, timeouts and cancellation
 * mean the same everywhere, and stops work on `cancel`.
 *
 * Required: `launch`, `cancel`, `close`. Optional: `launchMany` (batched enqueue),
 * `createAndLaunch` (record and queue entry in one write), `ping` (readiness),
 * `scheduler` (schedules kept and fired by the engine).
 *
 * Left out on purpose: reading results (handles read the store) and rate limiting
 * (launch-side middleware).
 *
 * Every implementation passes `testBackend` from `@au/testing`.
 */
export interface ComputationBackend {
  /** Short name for messages and logs, e.g. `in-process`, `threads`, `bullmq`. */
  readonly name: string;
  readonly capabilities: BackendCapabilities;

  // ---- Launching ------------------------------------------------------------------

  /**
   * Accepts the computation. Resolves once the work is durably accepted (queued in
   * memory for a local backend, written to Redis or Postgres for a queue), not when it
   * finishes. Rejects (`TaskNotFoundError`, `ClosedError`, a connection error) when it
   * cannot accept it; the caller then marks the record failed.
   */
  launch(invocation: Invocation): Promise<void>;

  /** Accepts many computations in one round trip where the engine allows it. */
  launchMany?(invocations: readonly Invocation[]): Promise<void>;

  /**
   * Creates the records in `store` and accepts their invocations in one write, for a
   * backend that can write the record with its queue entry (the Postgres queue over its
   * own schema, BullMQ with a `RedisStore` on its Redis): core then makes no separate
   * `store.create`. All or nothing, like
   * `createMany`: throws `KeyExistsError` when a key has a record, and writes nothing.
   * Resolves `false`, having written nothing, when it cannot take these records (another
   * store, too many at once): core then creates them and calls `launch`.
   * Optional; `records[i]` is the record of `invocations[i]`.
   */
  createAndLaunch?(
    store: ComputationStore,
    records: readonly ComputationRecord[],
    invocations: readonly Invocation[],
  ): Promise<boolean>;

  /**
   * Binds the backend to the store its work writes. Core calls it before the first
   * launch through each store (`asyncCompute`, `submitTask`, the HTTP layer). A backend
   * already bound to another store rejects with `StoreMismatchError`; a distributed
   * backend also checks, by `store.id`, that its workers write the same store.
   * Optional: a backend without it writes whatever store each launch names.
   */
  bind?(store: ComputationStore): Promise<void>;

  /**
   * Registers how a task runs here, for a backend that runs functions of the caller's
   * process (in-process, threads, processes, and queue backends with an embedded
   * worker). Core calls it before each launch; the latest registration of a task name
   * wins. Throws `TypeError` when another task definition already has the name.
   */
  register?(registration: TaskRegistration): void;

  // ---- Scheduling -----------------------------------------------------------------

  /**
   * A scheduler kept by this backend's engine (BullMQ job schedulers, a schedules table
   * in Postgres), whose ticks launch runs into `context.store`. Core calls it once per
   * store and closes the scheduler before the backend. Optional: core's `StoreScheduler`
   * (schedules in the store, fired by a timer) is used otherwise.
   */
  scheduler?(context: SchedulerContext): ComputationScheduler;

  // ---- Flow control ---------------------------------------------------------------

  /**
   * Most computations that may wait to start (queued, delayed, backing off) on this
   * backend; core refuses a launch past it with `QueueFullError` before anything is
   * written. Needs `queued`. @default no limit
   */
  readonly maxQueued?: number;

  /**
   * How many computations wait to start here (queued, delayed, backing off; not
   * running): of `task` only when it is given, else of every task. Core calls it before
   * a launch when the task or the backend has a `maxQueued`. Optional: a backend without
   * it cannot bound its queue, and a `maxQueued` on it is a `ConfigError` at launch.
   */
  queued?(task?: string): Promise<number>;

  /**
   * For a backend that composes others (`RoutingBackend`): the one that runs `task`. Core
   * checks that backend's `maxQueued` too. Throws `ConfigError` when none serves it.
   */
  route?(task: TaskDefinition): ComputationBackend;

  /**
   * Stops starting work of `task` (or, without it, of every task) on every worker of this
   * backend, until `resume`. Running work finishes; paused work stays `pending` and keeps
   * its place. A distributed backend persists the pause (Redis, Postgres), so it holds
   * across restarts and for workers that start later; a local backend keeps it for its
   * life. Pausing what is paused is a no-op. Needs `resume` and `paused`.
   */
  pause?(task?: string): Promise<void>;

  /** Starts `task` (or the whole queue) again after `pause`. Resuming what runs is a no-op. */
  resume?(task?: string): Promise<void>;

  /** What is paused now. */
  paused?(): Promise<PausedState>;

  // ---- Stopping -------------------------------------------------------------------

  /**
   * Stops the computation wherever it is: drops it if queued, aborts it if running
   * (signal first; threads and processes are terminated after a grace period). Returns
   * `true` when this backend found it. The record is marked `cancelled` by the caller
   * (`cancelComputation`) before this is called, so a late completion cannot win.
   */
  cancel(key: string, reason?: string): Promise<boolean>;

  /**
   * Stops accepting work and drains: queued and running work may finish within
   * `timeout` ms; what is still running then is aborted and marked `cancelled`.
   */
  close(options?: CloseOptions): Promise<void>;

  // ---- Health ---------------------------------------------------------------------

  /** Resolves when the backend can accept work (connections up); rejects otherwise. */
  ping?(): Promise<void>;
}

/** What `pause` stopped, as `ComputationBackend.paused` reports it. */
export interface PausedState {
  /** The whole queue is paused: no task starts. */
  queue: boolean;
  /** Tasks paused one by one (whether or not the whole queue is), sorted by name. */
  tasks: string[];
}

export interface BackendCapabilities {
  /** Runs inline functions (`asyncCompute(fn)`) as well as named tasks. */
  inlineFunctions: boolean;
  /** Work survives the caller's process (a queue in Redis or Postgres). */
  durable: boolean;
  /** Honours `priority`. */
  priority: boolean;
  /** A cancel stops a task that never yields (it kills the thread or process). */
  preemptiveCancel: boolean;
}

export interface CloseOptions {
  /** Milliseconds to wait for running work. @default 10000 */
  timeout?: number;
}
