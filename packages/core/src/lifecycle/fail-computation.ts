import { systemClock } from '../clock';
import type { ComputationStore } from '../contracts/store';
import { serializeError } from '../errors/serialize-error';
import type { ComputationRecord } from '../record';
import type { ComputationStatus } from '../status';
import { landedWith } from './complete-computation';
import { type EndingFields, endingPatch, type LifecycleOptions } from './ending';
import { persist } from './store-retry';

export interface FailFields extends EndingFields {
  /** Why: any thrown value, stored serialized. */
  error: unknown;
  /**
   * `running` (default): an attempt failed for good. `active`: also from `pending`, for a
   * computation that can never start (a refused launch, a task the worker does not
   * have, a job its queue gave up on).
   */
  from?: 'running' | 'active';
}

const FROM_RUNNING: readonly ComputationStatus[] = ['running'];
const FROM_ACTIVE: readonly ComputationStatus[] = ['pending', 'running'];

/**
 * Ends a computation `failed` with its error: resolves to the failed record, or
 * `undefined` when it had already ended (a cancel or a result won) or is gone.
 */
export async function failComputation(
  store: ComputationStore,
  key: string,
  fields: FailFields,
  options: LifecycleOptions = {},
): Promise<ComputationRecord | undefined> {
  const finishedAt = fields.finishedAt ?? (options.clock ?? systemClock).now();
  const error = serializeError(fields.error);
  return persist({
    operation: 'fail',
    key,
    write: async () => {
      const patch = await endingPatch(store, key, fields, finishedAt);
      return store.update(
        key,
        { ...patch, status: 'failed', error },
        { ifStatus: fields.from === 'active' ? FROM_ACTIVE : FROM_RUNNING },
      );
    },
    landed: () => landedWith(store, key, 'failed', finishedAt),
    // Named, not spread: a spread in a literal costs a slow copy on every write.
    retry: options.retry,
    clock: options.clock,
    logger: options.logger,
    signal: options.signal,
  });
}
