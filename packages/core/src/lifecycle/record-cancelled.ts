import { type Clock, systemClock } from '../clock';
import type { ComputationStore } from '../contracts/store';
import type { CancelledError } from '../errors/cancelled-error';
import { serializeError } from '../errors/serialize-error';
import type { ComputationPatch, ComputationRecord } from '../record';
import type { TaskLogger } from '../task';
import { landedWith } from './complete-computation';
import { NO_STORE_RETRY, persist, type StoreRetryOptions } from './store-retry';

export interface RecordCancelledOptions {
  store: ComputationStore;
  key: string;
  /** Why: stored, serialized, as the record's `error`. */
  error: CancelledError;
  /** Seconds the record lives once cancelled; no `expiresAt` is written when absent. */
  ttl?: number | undefined;
  /** @default clock.now() */
  finishedAt?: number;
  /** Time source for `finishedAt`. @default systemClock */
  clock?: Clock;
  /** More fields written in the same update (e.g. the last progress). */
  patch?: ComputationPatch;
  /** Retries through a store outage. @default no retry: a caller's cancel fails fast */
  retry?: StoreRetryOptions;
  logger?: TaskLogger;
}

/**
 * Records a computation `cancelled` with `error` as the reason, only while it is still
 * `pending` or `running` (a terminal record never changes). Resolves to the updated
 * record, or `undefined` when there was nothing left to cancel.
 */
export function recordCancelled({
  store,
  key,
  error,
  ttl,
  clock = systemClock,
  finishedAt = clock.now(),
  patch,
  retry = NO_STORE_RETRY,
  logger,
}: RecordCancelledOptions): Promise<ComputationRecord | undefined> {
  const cancelled: ComputationPatch = {
    ...patch,
    status: 'cancelled',
    error: serializeError(error),
    finishedAt,
    ...(ttl === undefined ? {} : { expiresAt: finishedAt + ttl * 1000 }),
  };
  return persist({
    operation: 'cancel',
    key,
    write: () => store.update(key, cancelled, { ifStatus: ['pending', 'running'] }),
    landed: () => landedWith(store, key, 'cancelled', finishedAt),
    retry,
    clock,
    logger,
  });
}
