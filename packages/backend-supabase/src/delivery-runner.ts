import {
  type Clock,
  type ComputationRecord,
  type ComputationStore,
  type Invocation,
  jsonCodec,
  type Middleware,
  type RetryPolicy,
  type TaskDefinition,
  type TaskLogger,
  TaskNotFoundError,
  type TaskRegistry,
} from '@au/core';
import {
  type ExecutionOutcome,
  executeAttempt,
  failComputation,
  isTransientStoreError,
  type LifecycleOptions,
  type LocalRun,
  notifyDeadLetter,
  persist,
  type StoreRetryOptions,
  serializeError,
} from '@au/core/kit';
import type { Lease } from '@au/store-supabase';
import { fromBackoffSpec } from './backoff-spec';
import { LeaseLostError } from './errors/lease-lost-error';
import type { ClaimedTask, QueueClient } from './queue-client';
import { finishedDelivery, withLease } from './sql-store';

/** An invocation of this process, with what runs it here. */
export interface LocalInvocation {
  invocation: Invocation;
  run: LocalRun;
}

/** What a delivery runner needs from its worker. */
export interface DeliveryRunnerSettings {
  queue: QueueClient;
  store: ComputationStore;
  /** `store` is the queue's own rows (see `QueueWorkerOptions.ownStore`): its writes are fenced by the lease. */
  ownStore: boolean;
  tasks: TaskRegistry | undefined;
  middleware: readonly Middleware[];
  logger: TaskLogger;
  clock: Clock;
  storeRetry: StoreRetryOptions | undefined;
  /** Renews the row's lease while the work runs; returns `stop`. */
  startHeartbeat(row: ClaimedTask, controller: AbortController, abortOnLost: boolean): () => void;
  /** Polls again in `delay` ms (a retry of this process comes due). */
  wakeIn(delay: number): void;
}

/** Milliseconds before a delivery given back during a store outage is claimed again (±25 %). */
export const GIVE_BACK_DELAY = 1000;

/**
 * Runs one claimed queue row: a task the worker lacks ends the record `failed` (from
 * `pending`, through core's `failComputation`); anything else runs through core's
 * executor, whose lifecycle operations make every status change. Then the row is ended
 * to match. A record that could not be written (the store stayed down past
 * `storeRetry`) is given back to the queue, never failed for an outage.
 */
export class DeliveryRunner {
  readonly #settings: DeliveryRunnerSettings;
  readonly #lifecycle: LifecycleOptions;

  constructor(settings: DeliveryRunnerSettings) {
    this.#settings = settings;
    this.#lifecycle = {
      clock: settings.clock,
      logger: settings.logger,
      ...(settings.storeRetry === undefined ? {} : { retry: settings.storeRetry }),
    };
  }

  /** Resolves with the outcome, or `undefined` when the delivery was given back or its lease lost. */
  async run(
    row: ClaimedTask,
    controller: AbortController,
    local: LocalInvocation | undefined,
    prefetched: ComputationRecord | undefined,
  ): Promise<ExecutionOutcome | undefined> {
    const { queue, store, tasks, ownStore } = this.#settings;
    const task: TaskDefinition | undefined = local?.run.task ?? tasks?.find(row.task);
    const lease: Lease = { taskId: row.id, token: row.lease_token };
    const fenced = ownStore ? withLease(store, lease, prefetched) : store;
    if (task === undefined) return this.#failUnknownTask(row, fenced);
    // A lost lease aborts the work only when its writes are fenced: with another store, an
    // abort would record a cancel over the next worker's run.
    const stopHeartbeat = this.#settings.startHeartbeat(row, controller, fenced !== store);
    let outcome: ExecutionOutcome;
    try {
      outcome = await this.#execute(row, task, fenced, controller.signal, local);
    } catch (error) {
      return this.#settleThrown(row, fenced, error);
    } finally {
      stopHeartbeat();
    }
    if (LeaseLostError.isInstance(controller.signal.reason)) return undefined;
    if (outcome.status === 'skipped' && outcome.record === undefined) {
      this.#settings.logger.warn(
        { key: row.key, task: row.task },
        `[au] [${queue.transport.name}-queue] delivery of computation "${row.key}" dropped: it has no record (it expired or was deleted, or the producer writes another store); nothing was run or written`,
      );
    }
    // The fenced write that ended the record, or queued it again, moved the queue entry in
    // the same call: the entry is the record's row.
    if (finishedDelivery(fenced) && outcome.status !== 'skipped') {
      if (outcome.status === 'retry') this.#settings.wakeIn(outcome.delay);
      return outcome;
    }
    await this.#endDelivery(row, outcome, local?.run.retry ?? task.retry);
    return outcome;
  }

  // ---- private helpers ------------------------------------------------------------

  #execute(
    row: ClaimedTask,
    task: TaskDefinition,
    store: ComputationStore,
    signal: AbortSignal,
    local: LocalInvocation | undefined,
  ): Promise<ExecutionOutcome> {
    const settings = this.#settings;
    const retry = local?.run.retry ?? fromBackoffSpec(row.max_attempts, row.backoff, task.retry?.retryOn);
    const timeout = local?.invocation.timeout ?? row.timeout_ms ?? task.timeout;
    return executeAttempt({
      store,
      key: row.key,
      task,
      codec: local?.run.codec ?? task.codec ?? jsonCodec,
      retry,
      ...(timeout === undefined || timeout === null ? {} : { timeout }),
      ...(local?.invocation.ttl === undefined ? {} : { ttl: local.invocation.ttl }),
      middleware: local?.run.middleware ?? settings.middleware,
      signal,
      clock: settings.clock,
      logger: local?.run.logger ?? settings.logger,
      ...(settings.storeRetry === undefined ? {} : { storeRetry: settings.storeRetry }),
      retryMode: 'report',
      reclaimRunning: true,
    });
  }

  /** The worker does not have the task: the computation can never start here. */
  async #failUnknownTask(row: ClaimedTask, fenced: ComputationStore): Promise<ExecutionOutcome | undefined> {
    const { queue, tasks, logger } = this.#settings;
    const error = new TaskNotFoundError({
      task: row.task,
      where: `the task modules of the worker of queue "${queue.queue}"`,
      known: tasks?.names() ?? [],
    });
    let record: ComputationRecord | undefined;
    try {
      record = await failComputation(fenced, row.key, { error, from: 'active' }, this.#lifecycle);
    } catch (writeError) {
      if (!isTransientStoreError(writeError)) throw writeError;
      await this.#giveBack(row, writeError);
      return undefined;
    }
    if (record === undefined) {
      logger.warn(
        { key: row.key, task: row.task },
        `[au] [${queue.transport.name}-queue] delivery of computation "${row.key}" dropped: task "${row.task}" is unknown here and the computation is no longer pending or running`,
      );
    } else {
      logger.error({ key: row.key, task: row.task }, error.message);
      await notifyDeadLetter(this.#settings.middleware, record, logger);
    }
    if (!finishedDelivery(fenced))
      await this.#queueWrite(row, () => queue.fail(row, serializeError(error), false));
    return record === undefined ? undefined : { status: 'failed', record, error };
  }

  /** The executor threw: its store writes failed past their retries, or the work cannot run at all. */
  async #settleThrown(
    row: ClaimedTask,
    fenced: ComputationStore,
    error: unknown,
  ): Promise<ExecutionOutcome | undefined> {
    if (isTransientStoreError(error)) {
      await this.#giveBack(row, error);
      return undefined;
    }
    // Not an outage (a corrupt record, a programming error): the computation cannot run.
    let record: ComputationRecord | undefined;
    try {
      record = await failComputation(fenced, row.key, { error, from: 'active' }, this.#lifecycle);
    } catch (writeError) {
      await this.#giveBack(row, writeError);
      return undefined;
    }
    this.#settings.logger.error(
      { err: error, key: row.key },
      `[au] [${this.#settings.queue.transport.name}-queue] computation "${row.key}" could not run`,
    );
    if (record !== undefined)
      await notifyDeadLetter(this.#settings.middleware, record, this.#settings.logger);
    if (!finishedDelivery(fenced))
      await this.#queueWrite(row, () => this.#settings.queue.fail(row, serializeError(error), false));
    return record === undefined ? undefined : { status: 'failed', record, error };
  }

  /**
   * Puts the row back in the queue, its attempt not counted. When the queue cannot be
   * reached either, the row's lease lapses and the next claim after it takes it again.
   */
  async #giveBack(row: ClaimedTask, error: unknown): Promise<void> {
    const { queue, logger } = this.#settings;
    const delay = Math.round(GIVE_BACK_DELAY * (0.75 + Math.random() / 2));
    const component = `${queue.transport.name}-queue`;
    logger.warn(
      { err: error, key: row.key, delay },
      `[au] [${component}] computation "${row.key}": its record could not be written (${(error as Error)?.message ?? error}); its delivery goes back to queue "${queue.queue}" and runs again in ${delay} ms`,
    );
    try {
      await queue.release(row, delay);
    } catch (releaseError) {
      logger.warn(
        { err: releaseError, key: row.key },
        `[au] [${component}] computation "${row.key}": could not give its delivery back; it is claimed again once its lease lapses`,
      );
    }
  }

  /** Ends the queue row to match the record. */
  async #endDelivery(
    row: ClaimedTask,
    outcome: ExecutionOutcome,
    retry: RetryPolicy | undefined,
  ): Promise<void> {
    const { queue } = this.#settings;
    switch (outcome.status) {
      case 'completed':
        await this.#queueWrite(row, () => queue.complete(row, 'completed'));
        break;
      case 'failed':
        await this.#queueWrite(row, () => queue.fail(row, serializeError(outcome.error), false));
        break;
      case 'retry': {
        // A backoff function cannot travel to SQL: the delay the executor computed goes instead.
        const customDelay = typeof retry?.backoff === 'function' ? outcome.delay : undefined;
        const answer = await this.#queueWrite(row, () =>
          queue.fail(row, serializeError(outcome.error), true, customDelay),
        );
        if (answer === 'retry') this.#settings.wakeIn(outcome.delay);
        break;
      }
      case 'cancelled':
        await this.#queueWrite(row, () => queue.complete(row, 'cancelled'));
        break;
      case 'skipped':
        await this.#queueWrite(row, () =>
          queue.complete(row, outcome.record?.status === 'cancelled' ? 'cancelled' : 'completed'),
        );
        break;
    }
  }

  /** A queue call that ends a row, tried again through an outage (each is fenced by the lease: safe to repeat). */
  #queueWrite<T>(row: ClaimedTask, write: () => Promise<T>): Promise<T | undefined> {
    return persist({
      operation: 'end delivery',
      key: row.key,
      write,
      landed: async () => undefined,
      ...this.#lifecycle,
    });
  }
}
