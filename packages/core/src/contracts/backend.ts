import type { RetryPolicy } from '../retry-policy';
import type { TaskDefinition, TaskLogger } from '../task';
import type { Codec } from './codec';
import type { Middleware } from './middleware';
import type { ComputationStore } from './store';

/**
 * What a caller hands a backend: one computation whose `pending` record is already in
 * `store`. Local backends (in-process, threads, processes) use `task`, `store` and
 * `middleware` as given; distributed ones send `key`, `task.name` and the encoded
 * arguments, and their workers bring their own store, tasks and middleware.
 */
export interface Invocation {
  key: string;
  task: TaskDefinition;
  /** The arguments as the caller gave them (decoded). */
  args: unknown;
  /** Where the record lives. */
  store: ComputationStore;
  /** Higher runs first. @default 0 */
  priority: number;
  /** Do not start before this time (ms since the epoch). */
  runAt?: number;
  /** Per-attempt time limit in ms. */
  timeout?: number;
  retry: RetryPolicy;
  /** Seconds the record is kept after it ends. */
  ttl?: number;
  codec: Codec;
  /** Run-side middleware, outermost first. */
  middleware: readonly Middleware[];
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
 * `ping` (readiness).
 *
 * Left out on purpose: reading results (handles read the store), scheduling by cron,
 * and rate limiting (launch-side middleware).
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
   * Binds the backend to the store its work writes. Core calls it before the first
   * launch through each store (`asyncCompute`, `submitTask`, the HTTP layer). A backend
   * already bound to another store rejects with `StoreMismatchError`; a distributed
   * backend also checks, by `store.id`, that its workers write the same store.
   * Optional: a backend without it writes whatever store each launch names.
   */
  bind?(store: ComputationStore): Promise<void>;

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
