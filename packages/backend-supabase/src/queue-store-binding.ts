import { type ComputationStore, StoreMismatchError, type TaskLogger } from '@au/core';
import { describeStore, StoreBinding } from '@au/core/kit';
import type { QueueClient } from './queue-client';
import { identifyStore } from './sql-store';

/**
 * The store a queue backend's work writes, checked in two places: in this process
 * (`StoreBinding`: the backend's store against each launch's), and in the database
 * (`au_bind_store`: the first producer or worker of a queue records its store's id, and
 * any later one over another store is refused). So a producer and a worker over
 * different stores fail at start-up or at the first launch, never by skipping each
 * other's work. SQL stores learn their id from the schema first (`identify`).
 */
export class QueueStoreBinding {
  readonly #component: string;
  readonly #queue: QueueClient;
  readonly #logger: TaskLogger;
  readonly #local: StoreBinding;
  readonly #recorded = new Set<string>();
  #own: ComputationStore | undefined;

  constructor({
    component,
    queue,
    logger,
    store,
  }: { component: string; queue: QueueClient; logger: TaskLogger; store: ComputationStore | undefined }) {
    this.#component = component;
    this.#queue = queue;
    this.#logger = logger;
    this.#own = store;
    this.#local = new StoreBinding(component, store);
  }

  /** Checks `store` against this backend's and against the queue's; records it for the queue when it is the first. */
  async bind(store: ComputationStore): Promise<void> {
    await Promise.all([identifyStore(store), this.#own === undefined ? undefined : identifyStore(this.#own)]);
    this.#local.bind(store);
    await this.record(store);
  }

  /** Records `store` as the queue's store, or throws `StoreMismatchError` when the queue has another. */
  async record(store: ComputationStore): Promise<void> {
    await identifyStore(store);
    const id = store.id;
    const queue = this.#queue.queue;
    if (id === undefined) {
      this.#logger.debug(
        { queue, store: store.name },
        `[au] [${this.#component}] store ${describeStore(store)} has no id, so queue "${queue}" cannot check that producers and workers share it`,
      );
      return;
    }
    if (this.#recorded.has(id)) return;
    const bound = await this.#queue.bindStore(id);
    if (bound !== id) {
      this.#logger.error(
        { queue, bound, given: id },
        `[au] [${this.#component}] queue "${queue}" is bound to store ${bound} (table au_queue_stores of schema "${this.#queue.transport.schema}"); delete that row only if the queue really moves to another store`,
      );
      throw new StoreMismatchError({ component: `${this.#component} (queue "${queue}")`, bound, given: id });
    }
    this.#recorded.add(id);
  }
}
