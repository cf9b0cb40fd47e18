import { hostname } from 'node:os';
import {
  CancelledError,
  type Clock,
  type ComputationRecord,
  type ComputationStore,
  type Invocation,
  jsonCodec,
  type Middleware,
  systemClock,
  type TaskDefinition,
  type TaskLogger,
  type TaskRegistry,
} from '@au/core';
import { type ExecutionOutcome, executeAttempt, type LocalRun, serializeError } from '@au/core/kit';
import type { Lease, LeasedStore } from '@au/store-supabase';
import { fromBackoffSpec } from './backoff-spec';
import { LeaseLostError } from './errors/lease-lost-error';
import type { ClaimedTask, QueueClient } from './queue-client';

/** An invocation of this process, with what runs it here. */
export interface LocalInvocation {
  invocation: Invocation;
  run: LocalRun;
}

/** How a queue worker runs. */
export interface QueueWorkerOptions {
  queue: QueueClient;
  /** Where records live for work launched elsewhere. */
  store: ComputationStore;
  /** Tasks by name, for work launched elsewhere. */
  tasks: TaskRegistry | undefined;
  /** Work launched by this process: run with the task, codec and middleware core registered. */
  local?: (key: string) => LocalInvocation | undefined;
  maxConcurrentTasks: number;
  pollingInterval: number;
  leaseMs: number;
  heartbeatInterval: number;
  middleware: readonly Middleware[];
  logger: TaskLogger;
  clock?: Clock;
  /** Called when a computation this worker ran reached an outcome. */
  onSettled?: (key: string, outcome: ExecutionOutcome | undefined) => void;
  /** Names the worker in the queue rows it leases. */
  workerId?: string;
}

interface RunningTask {
  row: ClaimedTask;
  controller: AbortController;
  done: Promise<void>;
}

/**
 * Polls the queue (with jitter, or at once when woken), claims up to the free slots,
 * runs each claim through core's executor in `report` mode, renews leases while it
 * runs, aborts on a cancel seen at a heartbeat, and ends each claim with
 * `au_complete` / `au_fail` (fenced by the lease token).
 */
export class QueueWorker {
  readonly id: string;
  readonly #options: QueueWorkerOptions;
  readonly #clock: Clock;
  readonly #running = new Map<string, RunningTask>();
  readonly #idleWaiters = new Set<() => void>();
  #timer: unknown;
  #polling = false;
  #pollAgain = false;
  #stopped = false;
  #failures = 0;

  constructor(options: QueueWorkerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.id = options.workerId ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  }

  start(): void {
    this.wake();
  }

  /** Claims now (a NOTIFY, a local launch, a retry coming due). */
  wake(): void {
    if (this.#stopped) return;
    if (this.#polling) {
      this.#pollAgain = true;
      return;
    }
    void this.#poll();
  }

  /** Claims at `delay` ms from now (a delayed launch or a retry in this process). */
  wakeIn(delay: number): void {
    if (this.#stopped) return;
    const timer = this.#clock.setTimeout(() => this.wake(), Math.max(0, delay) + 5);
    (timer as { unref?: () => void }).unref?.();
  }

  get runningCount(): number {
    return this.#running.size;
  }

  /** Aborts the computation if it runs here; true when it did. */
  abort(key: string, reason: unknown): boolean {
    const running = this.#running.get(key);
    if (running === undefined) return false;
    running.controller.abort(reason);
    return true;
  }

  /** Stops claiming; running work goes on (see `drain`). */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Resolves true once nothing runs here, false after `timeout` ms. */
  waitIdle(timeout: number): Promise<boolean> {
    if (this.#running.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        this.#clock.clearTimeout(timer);
        resolve(true);
      };
      const timer = this.#clock.setTimeout(() => {
        this.#idleWaiters.delete(done);
        resolve(false);
      }, timeout);
      this.#idleWaiters.add(done);
    });
  }

  /** Aborts everything still running (shutdown) and waits for it to settle. */
  async abortAll(reason: unknown): Promise<void> {
    const running = [...this.#running.values()];
    for (const task of running) task.controller.abort(reason);
    await Promise.all(running.map((task) => task.done));
  }

  // ---- private helpers ------------------------------------------------------------

  async #poll(): Promise<void> {
    this.#polling = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    let claimedAll = false;
    try {
      do {
        this.#pollAgain = false;
        const free = this.#options.maxConcurrentTasks - this.#running.size;
        if (free <= 0 || this.#stopped) break;
        const rows = await this.#options.queue.claim(this.id, free, this.#options.leaseMs);
        this.#failures = 0;
        rows.sort((a, b) => b.priority - a.priority);
        const prefetched = await this.#prefetch(rows);
        for (const row of rows) this.#start(row, prefetched.get(row.key));
        claimedAll = rows.length === free;
      } while ((claimedAll || this.#pollAgain) && !this.#stopped);
    } catch (error) {
      this.#failures += 1;
      if (this.#failures === 1 || this.#failures % 20 === 0)
        this.#options.logger.warn({ err: error }, '[au] [postgres-queue] claim failed; retrying');
    } finally {
      this.#polling = false;
    }
    this.#scheduleNextPoll();
  }

  #scheduleNextPoll(): void {
    if (this.#stopped) return;
    const base = this.#options.pollingInterval * (this.#failures > 0 ? Math.min(2 ** this.#failures, 20) : 1);
    const jittered = base * (0.5 + Math.random());
    this.#timer = this.#clock.setTimeout(() => this.wake(), jittered);
  }

  /** Reads the records of a claimed batch in one call, where the store can. */
  async #prefetch(rows: readonly ClaimedTask[]): Promise<Map<string, ComputationRecord>> {
    const byStore = new Map<SqlStore, string[]>();
    for (const row of rows) {
      const store = this.#options.store as SqlStore;
      if (typeof store.getMany !== 'function' || store.schema !== this.#options.queue.transport.schema)
        continue;
      const keys = byStore.get(store) ?? [];
      keys.push(row.key);
      byStore.set(store, keys);
    }
    const found = new Map<string, ComputationRecord>();
    await Promise.all(
      [...byStore].map(async ([store, keys]) => {
        const records = await store.getMany!(keys).catch(() => new Map<string, ComputationRecord>());
        for (const [key, record] of records) found.set(key, record);
      }),
    );
    return found;
  }

  #start(row: ClaimedTask, prefetched?: ComputationRecord): void {
    const controller = new AbortController();
    const running: RunningTask = { row, controller, done: Promise.resolve() };
    this.#running.set(row.key, running);
    running.done = this.#run(row, controller, prefetched)
      .catch((error: unknown) =>
        this.#options.logger.error({ err: error, key: row.key }, '[au] [postgres-queue] run failed'),
      )
      .finally(() => {
        if (this.#running.get(row.key) === running) this.#running.delete(row.key);
        if (this.#running.size === 0) {
          for (const resolve of this.#idleWaiters) resolve();
          this.#idleWaiters.clear();
        }
        this.wake();
      });
  }

  async #run(row: ClaimedTask, controller: AbortController, prefetched?: ComputationRecord): Promise<void> {
    const options = this.#options;
    const local = options.local?.(row.key);
    const task: TaskDefinition | undefined = local?.run.task ?? options.tasks?.find(row.task);
    const store = options.store;
    if (task === undefined) {
      const error = {
        name: 'TaskNotFoundError',
        message: `[au] [postgres-queue] task "${row.task}" is not in this worker's task modules (${options.tasks?.names().join(', ') || 'none'})`,
      };
      await store
        .update(
          row.key,
          { status: 'failed', error, finishedAt: this.#clock.now() },
          { ifStatus: ['pending', 'running'] },
        )
        .catch(() => undefined);
      await options.queue.fail(row, error, false);
      options.onSettled?.(row.key, undefined);
      return;
    }
    const lease: Lease = { taskId: row.id, token: row.lease_token };
    const fenced = withLease(store, lease, options.queue.transport.schema, prefetched);
    // A lost lease aborts the work only when its writes are fenced: with another store, an
    // abort would record a cancel over the next worker's run.
    const stopHeartbeat = this.#startHeartbeat(row, controller, fenced !== store);
    let outcome: ExecutionOutcome;
    try {
      const retry = local?.run.retry ?? fromBackoffSpec(row.max_attempts, row.backoff, task.retry?.retryOn);
      const timeout = local?.invocation.timeout ?? row.timeout_ms ?? task.timeout;
      outcome = await executeAttempt({
        store: fenced,
        key: row.key,
        task,
        codec: local?.run.codec ?? task.codec ?? jsonCodec,
        retry,
        ...(timeout === undefined || timeout === null ? {} : { timeout }),
        ...(local?.invocation.ttl === undefined ? {} : { ttl: local.invocation.ttl }),
        middleware: local?.run.middleware ?? options.middleware,
        signal: controller.signal,
        clock: this.#clock,
        logger: local?.run.logger ?? options.logger,
        retryMode: 'report',
        reclaimRunning: true,
      });
    } finally {
      stopHeartbeat();
    }
    if (LeaseLostError.isInstance(controller.signal.reason)) {
      options.onSettled?.(row.key, undefined);
      return;
    }
    const finished = (fenced as Partial<LeasedStore>).finishedDelivery === true;
    if (finished && outcome.status !== 'retry' && outcome.status !== 'skipped') {
      // The fenced write that ended the record ended the queue row in the same call.
      options.onSettled?.(row.key, outcome);
      return;
    }
    switch (outcome.status) {
      case 'completed':
        await options.queue.complete(row, 'completed');
        break;
      case 'failed':
        await options.queue.fail(row, serializeError(outcome.error), false);
        break;
      case 'retry': {
        const customDelay =
          typeof (local?.run.retry ?? task.retry)?.backoff === 'function' ? outcome.delay : undefined;
        const answer = await options.queue.fail(row, serializeError(outcome.error), true, customDelay);
        if (answer === 'retry') this.wakeIn(outcome.delay);
        break;
      }
      case 'cancelled':
        await options.queue.complete(row, 'cancelled');
        break;
      case 'skipped':
        await options.queue.complete(row, outcome.record?.status === 'cancelled' ? 'cancelled' : 'completed');
        break;
    }
    options.onSettled?.(row.key, outcome);
  }

  /** Renews the lease every `heartbeatInterval` ms; aborts on a cancel or a lost lease. Returns `stop`. */
  #startHeartbeat(row: ClaimedTask, controller: AbortController, abortOnLost: boolean): () => void {
    const options = this.#options;
    let stopped = false;
    let timer: unknown;
    const beat = async () => {
      try {
        const answer = await options.queue.heartbeat(row, options.leaseMs);
        if (answer === 'cancel') controller.abort(new CancelledError({ key: row.key, reason: 'cancelled' }));
        else if (answer === 'lost' && abortOnLost)
          controller.abort(
            new LeaseLostError({ key: row.key, component: this.#options.queue.transport.name }),
          );
      } catch (error) {
        options.logger.warn({ err: error, key: row.key }, '[au] [postgres-queue] heartbeat failed');
      }
      if (!stopped && !controller.signal.aborted)
        timer = this.#clock.setTimeout(beat, options.heartbeatInterval);
    };
    timer = this.#clock.setTimeout(beat, options.heartbeatInterval);
    return () => {
      stopped = true;
      this.#clock.clearTimeout(timer);
    };
  }
}

/** What the worker uses of an au SQL store (`PostgresStore`, `SupabaseStore`), found by shape. */
type SqlStore = ComputationStore & {
  schema?: string;
  withLease?: (lease: Lease, prefetched?: ComputationRecord) => ComputationStore;
  getMany?: (keys: readonly string[]) => Promise<Map<string, ComputationRecord>>;
};

/** The store, fenced by the lease when it is an au SQL store over the queue's schema. */
function withLease(
  store: ComputationStore,
  lease: Lease,
  schema: string,
  prefetched: ComputationRecord | undefined,
): ComputationStore {
  const candidate = store as SqlStore;
  if (typeof candidate.withLease === 'function' && candidate.schema === schema)
    return candidate.withLease(lease, prefetched);
  return store;
}
