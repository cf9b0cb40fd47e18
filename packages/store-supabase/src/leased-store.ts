import {
  type ComputationPatch,
  type ComputationRecord,
  type ComputationStore,
  isTerminalStatus,
  type ListQuery,
  type StoreCapabilities,
  type UpdateOptions,
} from '@au/core';
import type { Lease, SqlFunctionStore } from './sql-function-store';

/**
 * A store view whose updates are fenced by a queue lease; everything else is the store's.
 * Its writes go out in batches with the other workers' (`FencedWriteBatcher`). The row is
 * the queue entry, so a write that ends the computation or queues it again (a retry) is
 * the queue transition too: `finishedDelivery` then says nothing is left to do for the row.
 */
export class LeasedStore implements ComputationStore {
  readonly name: string;
  readonly capabilities: StoreCapabilities;
  /** A fenced write ended the computation or queued it again, and with it the queue entry. */
  finishedDelivery = false;
  readonly #store: SqlFunctionStore;
  readonly #lease: Lease;
  #prefetched: ComputationRecord | undefined;

  constructor(store: SqlFunctionStore, lease: Lease, prefetched?: ComputationRecord) {
    this.#store = store;
    this.#lease = lease;
    this.#prefetched = prefetched;
    this.name = store.name;
    this.capabilities = store.capabilities;
  }

  get id(): string | undefined {
    return this.#store.id;
  }

  async get(key: string) {
    const prefetched = this.#prefetched;
    this.#prefetched = undefined;
    if (prefetched !== undefined && prefetched.key === key) return { ...prefetched };
    return this.#store.get(key);
  }
  list(query?: ListQuery) {
    return this.#store.list(query);
  }
  create(record: ComputationRecord) {
    return this.#store.create(record);
  }
  async update(key: string, patch: ComputationPatch, options: UpdateOptions = {}) {
    this.#prefetched = undefined;
    const record = await this.#store.updateWithLease(key, patch, options, this.#lease, { batched: true });
    if (record !== undefined && patch.status !== undefined && movesQueueEntry(patch.status))
      this.finishedDelivery = true;
    return record;
  }
  delete(key: string) {
    return this.#store.delete(key);
  }
  cleanupExpired(now?: number) {
    return this.#store.cleanupExpired(now);
  }
  async close(): Promise<void> {}
}

// ---- private helpers --------------------------------------------------------------

/** An ending, or a return to `pending` (a retry): the write queued or ended the entry. */
function movesQueueEntry(status: ComputationRecord['status']): boolean {
  return isTerminalStatus(status) || status === 'pending';
}
