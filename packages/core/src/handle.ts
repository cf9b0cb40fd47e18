import { type Clock, systemClock } from './clock';
import type { ComputationBackend } from './contracts/backend';
import type { Codec } from './contracts/codec';
import type { ComputationStore } from './contracts/store';
import { CancelledError } from './errors/cancelled-error';
import { ComputationFailedError } from './errors/computation-failed-error';
import { ComputationNotFoundError } from './errors/computation-not-found-error';
import { cancelComputation } from './lifecycle/cancel-computation';
import type { ComputationRecord } from './record';
import type { ComputationStatus } from './status';
import { isTerminalStatus } from './status';
import type { TaskLogger } from './task';
import { followRecord, waitForTerminal } from './wait-for-record';

/** A change seen by `handle.events()`. */
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
   * Waits for the result. Rejects `ComputationFailedError` (with the remote error),
   * `CancelledError`, `TimeoutError` when `timeout` passes, `ComputationNotFoundError`.
   */
  async result(options: ResultOptions = {}): Promise<T> {
    const { store } = this.#context;
    const wait = () =>
      waitForTerminal(store, this.key, { ...options, clock: this.#context.clock ?? systemClock });
    // A watching store is read once, after subscribing: reading first would cost a round
    // trip on a remote store, and a result is mostly awaited before it exists.
    if (store.watch !== undefined && store.capabilities.watch) return this.#settle(await wait());
    const record = await store.get(this.key);
    if (record === undefined) throw new ComputationNotFoundError({ key: this.key, store: store.name });
    return this.#settle(isTerminalStatus(record.status) ? record : await wait());
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
   * Status and progress changes: the current status first, then each change, ending
   * after the terminal status. Break out of the loop (or abort) to stop listening.
   */
  async *events(options: { signal?: AbortSignal } = {}): AsyncGenerator<ComputationEvent> {
    let previous: ComputationRecord | undefined;
    for await (const record of followRecord(this.#context.store, this.key, {
      ...options,
      clock: this.#context.clock ?? systemClock,
    })) {
      if (previous === undefined || record.status !== previous.status) {
        yield { type: 'status', status: record.status, record };
      }
      if (
        record.progress !== undefined &&
        (previous === undefined || !sameValue(record.progress, previous.progress))
      ) {
        yield { type: 'progress', progress: record.progress, record };
      }
      previous = record;
    }
  }

  #settle(record: ComputationRecord): T {
    if (record.status === 'completed') return this.#context.codec.decode(record.value) as T;
    if (record.status === 'cancelled') {
      const reason = record.error?.message.replace(/^\[au\] computation "[^"]*" was cancelled:? ?/, '');
      throw new CancelledError({ key: this.key, ...(reason ? { reason } : {}) });
    }
    throw new ComputationFailedError({
      key: this.key,
      remote: record.error ?? { name: 'Error', message: 'the computation failed without an error message' },
    });
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
