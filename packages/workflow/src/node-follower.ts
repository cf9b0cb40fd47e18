import { setMaxListeners } from 'node:events';
import {
  type Clock,
  ComputationNotFoundError,
  type ComputationRecord,
  type ComputationStore,
  isTerminalStatus,
} from '@au/core';
import { followRecord } from '@au/core/kit';

/**
 * Follows nodes' records until they end, for one run (internal): one store watch per
 * record, read directly (no async generator, no abort listener per record: a watch ends
 * with its record's terminal version, `close` ends any left). Stores without `watch`
 * are polled by `followRecord`, on the run's clock.
 */
export class NodeFollower {
  readonly #store: ComputationStore;
  readonly #clock: Clock;
  readonly #stopped = new AbortController();
  readonly #watches = new Set<AsyncIterator<ComputationRecord>>();

  constructor(store: ComputationStore, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
    setMaxListeners(0, this.#stopped.signal);
  }

  /** True once `close` was called: a follow that fails then is no failure of its node. */
  get closed(): boolean {
    return this.#stopped.signal.aborted;
  }

  /** Resolves with the record's terminal version; `onChange` sees each version before it. */
  async follow(key: string, onChange: (record: ComputationRecord) => void): Promise<ComputationRecord> {
    const store = this.#store;
    if (store.watch === undefined || !store.capabilities.watch) return this.#poll(key, onChange);
    // Subscribe first, then read, so no change falls between the two.
    const changes = store.watch(key)[Symbol.asyncIterator]();
    this.#watches.add(changes);
    try {
      const current = await store.get(key);
      if (current === undefined) throw new ComputationNotFoundError({ key, store: store.name });
      if (isTerminalStatus(current.status)) return current;
      onChange(current);
      for (;;) {
        const change = await changes.next();
        if (change.done) break;
        if (isTerminalStatus(change.value.status)) return change.value;
        onChange(change.value);
      }
      this.#stopped.signal.throwIfAborted();
      // The watch ended without a terminal version (the store closed): report what is there.
      const last = await store.get(key);
      if (last === undefined || !isTerminalStatus(last.status)) {
        throw new ComputationNotFoundError({ key, store: store.name });
      }
      return last;
    } finally {
      this.#watches.delete(changes);
      await changes.return?.();
    }
  }

  /** Stops following: polls end, and watches a store left open are ended. */
  close(): void {
    this.#stopped.abort();
    for (const changes of this.#watches) void changes.return?.()?.catch(() => undefined);
    this.#watches.clear();
  }

  async #poll(key: string, onChange: (record: ComputationRecord) => void): Promise<ComputationRecord> {
    for await (const record of followRecord(this.#store, key, {
      signal: this.#stopped.signal,
      clock: this.#clock,
    })) {
      if (isTerminalStatus(record.status)) return record;
      onChange(record);
    }
    throw new ComputationNotFoundError({ key, store: this.#store.name });
  }
}
