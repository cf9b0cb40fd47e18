import { type Clock, systemClock } from './clock';
import type { ComputationBackend } from './contracts/backend';
import type { Codec } from './contracts/codec';
import type { ComputationStore } from './contracts/store';
import { CancelledError } from './errors/cancelled-error';
import { ComputationFailedError } from './errors/computation-failed-error';
import { ComputationNotFoundError } from './errors/computation-not-found-error';
import { cancelComputation } from './lifecycle/cancel-computation';
import type { ComputationLogs, ComputationRecord } from './record';
import type { ComputationStatus } from './status';
import { isTerminalStatus } from './status';
import type { TaskLogger } from './task';
import { followRecord, waitForTerminal } from './wait-for-record';

/**
 * A change seen by `handle.events()`: the status moved, or the task reported progress.
 * `record` is the stored version that carried the change.
 */
export type ComputationEvent =
  | { type: 'status'; status: ComputationStatus; record: ComputationRecord }
  | { type: 'progress'; progress: unknown; record: ComputationRecord };

export interface ResultOptions {
  /** Milliseconds to wait; then rejects `TimeoutError` (the computation goes on). @default no limit */
  timeout?: number;
  /** Stops waiting (the computation goes on). */
  signal?: AbortSignal;
}

/** What a handle needs to reach its computation. */
export interface HandleContext {
  store: ComputationStore;
  backend: ComputationBackend;
  codec: Codec;
  clock?: Clock;
  logger?: TaskLogger;
  /** Re-opens the computation (`retryComputation` with its task's settings); absent where the task is not known. */
  retry?(key: string): Promise<ComputationRecord>;
}

/**
 * A computation launched somewhere: ask its status and progress, wait for its result,
 * cancel it. Cheap to create; re-attach by key with `asyncCompute(...).handle(key)`.
 */
export class ComputationHandle<T = unknown> {
  readonly key: string;
  readonly #context: HandleContext;

  constructor(key: string, context: HandleContext) {
    this.key = key;
    this.#context = context;
  }

  /** The whole record. Rejects `ComputationNotFoundError` when there is none. */
  async record(): Promise<ComputationRecord> {
    const record = await this.#context.store.get(this.key);
    if (record === undefined)
      throw new ComputationNotFoundError({ key: this.key, store: this.#context.store.name });
    return record;
  }

  async status(): Promise<ComputationStatus> {
    return (await this.record()).status;
  }

  /** True once the computation has ended (completed, failed or cancelled). */
  async isReady(): Promise<boolean> {
    return isTerminalStatus(await this.status());
  }

  /** The last progress value the task reported, or `undefined`. */
  async progress(): Promise<unknown> {
    return (await this.record()).progress;
  }

  /**
   * The lines the task wrote with `ctx.log` so far, oldest first (bounded: `dropped` counts
   * the older lines let go). Rejects `ComputationNotFoundError` when there is no record.
   */
  async logs(): Promise<ComputationLogs> {
    return (await this.record()).logs ?? { lines: [], dropped: 0 };
  }

  /**
   * Waits for the result. Rejects `ComputationFailedError` (with the remote error),
   * `CancelledError`, `TimeoutError` when `timeout` passes, `ComputationNotFoundError`.
   */
  async result(options: ResultOptions = {}): Promise<T> {
    const { store, clock } = this.#context;
    // Without a clock of its own, the wait's default (the system clock) is the handle's.
    const waitOptions = clock === undefined ? options : { ...options, clock };
    // The wait reads the record first (a watching store after subscribing), so a result
    // already there costs one read, and a polled one no read twice in a row.
    return this.#settle(await waitForTerminal(store, this.key, waitOptions));
  }

  /** Cancels the computation; `true` when it was still pending or running. */
  cancel(reason?: string): Promise<boolean> {
    return cancelComputation({
      store: this.#context.store,
      backend: this.#context.backend,
      key: this.key,
      ...(reason === undefined ? {} : { reason }),
      clock: this.#context.clock ?? systemClock,
      ...(this.#context.logger === undefined ? {} : { logger: this.#context.logger }),
    });
  }

  /**
   * Runs the computation again under the same key when it ended `failed` or `cancelled`:
   * the attempt that ended goes into `record.history` and a full budget of retries starts.
   * Resolves with the re-opened (`pending`) record. Rejects, changing nothing,
   * `RetryNotAllowedError` while it is pending or running or once it completed, and
   * `ComputationNotFoundError` when there is no record. See `retryComputation`.
   */
  async retry(): Promise<ComputationRecord> {
    if (this.#context.retry === undefined) {
      throw new TypeError(
        `[au] this handle of "${this.key}" does not know its task: retry through asyncCompute(task).retry(key)`,
      );
    }
    return this.#context.retry(this.key);
  }

  /**
   * Status and progress changes, in the order they happened, ending right after the
   * terminal status (`completed`, `failed` or `cancelled`), which is always the last event.
   *
   * - It starts with the current state: the status, and the last progress if there is one.
   * - Progress values may be coalesced: the executor writes at most one every
   *   `progressInterval` ms (the last one rides on the write that ends the attempt), and a
   *   store without `watch` is polled, so a reader may see the latest value, not every
   *   one. Values arrive in the order they were reported, the same value never twice in a
   *   row, and the last value an attempt reported arrives before the status that ends it.
   * - Progress is written only while `running`, so a value that arrives in the same write
   *   as a change to another status (a retry's `pending`, the terminal status) comes
   *   before that status: no progress ever follows the terminal status.
   * - A store without `watch` may also miss a status that lasted less than a poll interval
   *   (e.g. a quick retry's `pending`); the terminal status is never missed.
   *
   * Break out of the loop (or abort the signal) to stop listening.
   */
  async *events(options: { signal?: AbortSignal } = {}): AsyncGenerator<ComputationEvent> {
    let previous: ComputationRecord | undefined;
    for await (const record of followRecord(this.#context.store, this.key, {
      ...options,
      clock: this.#context.clock ?? systemClock,
    })) {
      yield* changesOf(previous, record);
      if (isTerminalStatus(record.status)) return;
      previous = record;
    }
  }

  #settle(record: ComputationRecord): T {
    if (record.status === 'completed') return this.#context.codec.decode(record.value) as T;
    if (record.status === 'cancelled') {
      // The reason travels as a field of the stored error, never parsed out of its message.
      const reason = record.error?.reason;
      throw new CancelledError({ key: this.key, ...(reason ? { reason } : {}) });
    }
    throw new ComputationFailedError({
      key: this.key,
      remote: record.error ?? { name: 'Error', message: 'the computation failed without an error message' },
    });
  }
}

/** The events one version of the record brings after `previous`, in the order they happened. */
function changesOf(previous: ComputationRecord | undefined, record: ComputationRecord): ComputationEvent[] {
  const status: ComputationEvent | undefined =
    previous === undefined || record.status !== previous.status
      ? { type: 'status', status: record.status, record }
      : undefined;
  const progress: ComputationEvent | undefined =
    record.progress !== undefined &&
    (previous === undefined || !sameValue(record.progress, previous.progress))
      ? { type: 'progress', progress: record.progress, record }
      : undefined;
  if (status === undefined) return progress === undefined ? [] : [progress];
  if (progress === undefined) return [status];
  // Progress is written only while running: with `running` it was reported after the
  // start; with any other status it was reported before the change.
  return record.status === 'running' ? [status, progress] : [progress, status];
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
