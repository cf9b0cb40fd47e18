import { systemClock } from '../clock';
import type { ComputationStore } from '../contracts/store';
import { isPromiseLike } from '../internal/is-promise-like';
import type { ComputationPatch, ComputationRecord } from '../record';
import { type EndingFields, endingPatch, type LifecycleOptions } from './ending';
import { persist } from './store-retry';

export interface CompleteFields extends EndingFields {
  /** The encoded result. */
  value: unknown;
}

/**
 * `running → completed` with the result, once: resolves to the completed record, or
 * `undefined` when the record is no longer `running` (a cancel won, or it is gone).
 * Retries through a store outage; a retried write whose first reply was lost is
 * recognised by its `finishedAt`, so a success is never reported as a lost race.
 */
export function completeComputation(
  store: ComputationStore,
  key: string,
  fields: CompleteFields,
  options: LifecycleOptions = {},
): Promise<ComputationRecord | undefined> {
  const finishedAt = fields.finishedAt ?? (options.clock ?? systemClock).now();
  const writeCompleted = (patch: ComputationPatch) => store.update(key, patch, RUNNING_ONLY);
  return persist({
    operation: 'complete',
    key,
    write: () => {
      // A retry's earlier error is cleared: the record of a success carries none.
      const patch = endingPatch(store, key, fields, finishedAt, {
        status: 'completed',
        value: fields.value,
        error: undefined,
      });
      return isPromiseLike(patch) ? patch.then(writeCompleted) : writeCompleted(patch);
    },
    landed: () => landedWith(store, key, 'completed', finishedAt),
    // Named, not spread: a spread in a literal costs a slow copy on every write.
    retry: options.retry,
    clock: options.clock,
    logger: options.logger,
    signal: options.signal,
  });
}

const RUNNING_ONLY = { ifStatus: ['running'] } as const;

/** The record, when it ended in `status` at `finishedAt`: the write of this call landed. */
export async function landedWith(
  store: ComputationStore,
  key: string,
  status: ComputationRecord['status'],
  finishedAt: number,
): Promise<ComputationRecord | undefined> {
  const record = await store.get(key);
  return record?.status === status && record.finishedAt === finishedAt ? record : undefined;
}
