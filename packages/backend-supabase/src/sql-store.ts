import type { ComputationRecord, ComputationStore } from '@au/core';
import type { Lease, LeasedStore } from '@au/store-supabase';

/** What the queue uses of an au SQL store (`PostgresStore`, `SupabaseStore`), found by shape. */
export type SqlStore = ComputationStore & {
  schema?: string;
  identify?: () => Promise<string>;
  withLease?: (lease: Lease, prefetched?: ComputationRecord) => ComputationStore;
  getMany?: (keys: readonly string[]) => Promise<Map<string, ComputationRecord>>;
  createQueued?: (
    records: readonly ComputationRecord[],
    queue: string,
    jobs: readonly unknown[],
  ) => Promise<void>;
};

/**
 * The queue's own store (`QueueWorkerOptions.ownStore`), fenced by the lease: a worker
 * whose lease lapsed cannot overwrite what the next worker writes, and the write that
 * ends the record ends the queue row in the same call.
 */
export function withLease(
  store: ComputationStore,
  lease: Lease,
  prefetched: ComputationRecord | undefined,
): ComputationStore {
  const candidate = store as SqlStore;
  return typeof candidate.withLease === 'function' ? candidate.withLease(lease, prefetched) : store;
}

/** Whether a fenced write ended the computation, and with it the queue row. */
export function finishedDelivery(store: ComputationStore): boolean {
  return (store as Partial<LeasedStore>).finishedDelivery === true;
}

/** Reads an SQL store's identity so that its `id` is known; other stores have theirs already (or none). */
export async function identifyStore(store: ComputationStore): Promise<void> {
  const candidate = store as SqlStore;
  if (typeof candidate.identify === 'function') await candidate.identify();
}
