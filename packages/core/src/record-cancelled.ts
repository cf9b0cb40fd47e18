import { type Clock, systemClock } from './clock';
import type { ComputationStore } from './contracts/store';
import type { CancelledError } from './errors/cancelled-error';
import { serializeError } from './errors/serialize-error';
import type { ComputationPatch, ComputationRecord } from './record';

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
}: RecordCancelledOptions): Promise<ComputationRecord | undefined> {
  return store.update(
    key,
    {
      ...patch,
      status: 'cancelled',
      error: serializeError(error),
      finishedAt,
      ...(ttl === undefined ? {} : { expiresAt: finishedAt + ttl * 1000 }),
    },
    { ifStatus: ['pending', 'running'] },
  );
}
