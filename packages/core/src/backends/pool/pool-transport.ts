import type { SerializedError } from '../../record';
import type { TaskLogger } from '../../task';
import type { PoolRequest, PoolResponse, WorkerEvent } from './pool-wire';

/**
 * How a `PooledBackend` reaches its workers: worker threads (Piscina) or child
 * processes. A transport starts attempts in workers, carries their replies and events,
 * delivers a cooperative abort, and forcibly ends one worker. It deliberately knows
 * nothing of records, the store, scheduling, batching decisions, retries or grace
 * periods: the pooled backend owns all of that, once for every transport.
 */
export interface PoolTransport {
  // ---- running --------------------------------------------------------------------

  /**
   * Runs one attempt in a free worker (waiting in the transport's own queue until one is).
   * Resolves with the worker's reply; rejects when the worker died before replying
   * (killed, or crashed: the error is passed to `crashError`).
   */
  run(request: PoolRequest): Promise<PoolResponse>;
  /** Runs several attempts of short tasks in one worker, one after the other; one response each, in order. */
  runBatch(requests: PoolRequest[]): Promise<PoolResponse[]>;

  // ---- stopping -------------------------------------------------------------------

  /**
   * Asks the worker to abort attempt `id` (its `ctx.signal`), or to skip it when its turn
   * has not come; an attempt still waiting for a worker is dropped (its reply rejects).
   * Does nothing once the attempt is over.
   */
  abort(id: number, reason: SerializedError): void;
  /**
   * Ends the worker running attempt `id` at once (terminate, SIGKILL), so a task that
   * never yields stops too; its reply rejects and the transport replaces the worker.
   * Does nothing when no worker runs it (not started, or over).
   */
  kill(id: number): void;
  /** Stops every worker; `gracePeriod` ms before a forced end where the transport has one. */
  close(gracePeriod: number): Promise<void>;

  // ---- reporting ------------------------------------------------------------------

  /** Workers alive (busy, idle or being stopped). */
  readonly size: number;
  /** The error a computation fails with when the worker running its attempt died on its own. */
  crashError(attempt: { task: string; key: string }, cause: unknown): Error;
  /** Of a batch whose worker died with `cause`: the attempt it died in, when the transport can tell. */
  diedIn(requests: readonly PoolRequest[], cause: unknown): number | undefined;
}

/** What a `PooledBackend` hands its transport's factory. */
export interface PoolTransportContext {
  /** Task modules the workers load, as `file:` URLs (or package names). */
  modules: readonly string[];
  /** Workers alive at most (= the backend's concurrency). */
  concurrency: number;
  /** Milliseconds an idle worker lives. */
  idleTimeout: number;
  /** Where the transport logs problems of its own (a worker that died between tasks). */
  logger: TaskLogger;
  /** Every progress or log message a worker sends, for any attempt. */
  onEvent(event: WorkerEvent): void;
}
