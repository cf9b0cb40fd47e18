import type { WatchFilter } from '../contracts/store';
import { createPushIterable, type PushIterable } from '../push-iterable';
import type { ComputationRecord } from '../record';
import { matchesWatchFilter } from '../watch-filter';

/**
 * The `watchAll` iterables of one store: each gets a copy of every record version that
 * matches its filter. Stores call `notify` for each new record and each new version.
 */
export class AllWatchers {
  readonly #watchers = new Set<{ filter: WatchFilter; iterable: PushIterable<ComputationRecord> }>();

  /** True while someone watches: stores skip the work of notifying otherwise. */
  get active(): boolean {
    return this.#watchers.size > 0;
  }

  /** A new iterable, until `signal` aborts or `end` is called. `onEmpty` runs when the last one goes. */
  watch(filter: WatchFilter, signal?: AbortSignal, onEmpty?: () => void): AsyncIterable<ComputationRecord> {
    const onAbort = () => iterable.end();
    const iterable = createPushIterable<ComputationRecord>(() => {
      this.#watchers.delete(entry);
      signal?.removeEventListener('abort', onAbort);
      if (this.#watchers.size === 0) onEmpty?.();
    });
    const entry = { filter: { ...filter }, iterable };
    this.#watchers.add(entry);
    if (signal?.aborted) iterable.end();
    else signal?.addEventListener('abort', onAbort, { once: true });
    return iterable;
  }

  notify(record: ComputationRecord): void {
    for (const { filter, iterable } of this.#watchers) {
      if (matchesWatchFilter(record, filter)) iterable.push({ ...record });
    }
  }

  /** Ends every iterable (the store closes). */
  end(): void {
    for (const { iterable } of [...this.#watchers]) iterable.end();
    this.#watchers.clear();
  }
}
