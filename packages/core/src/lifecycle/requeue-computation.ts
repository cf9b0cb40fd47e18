import type { ComputationStore } from '../contracts/store';
import { serializeError } from '../errors/serialize-error';
import type { AttemptSummary, ComputationLogs, ComputationPatch, ComputationRecord } from '../record';
import type { LifecycleOptions } from './ending';
import { persist } from './store-retry';

export interface RequeueFields {
  /** The failure of the attempt that ends, kept while the next one waits. */
  error?: unknown;
  /** Earliest start of the next attempt (a retry's backoff). */
  runAt?: number;
  /** The last progress, written in the same update. */
  progress?: { value: unknown };
  /** The computation's `ctx.log` lines, written in the same update. */
  logs?: ComputationLogs;
  /** The record's new attempt history (the ended attempt added), written in the same update. */
  history?: AttemptSummary[];
}

/**
 * Gives a `running` computation back: `running → pending`, for a retry or after its
 * worker was lost. Resolves to the pending record, or `undefined` when it is no longer
 * `running` (cancelled meanwhile, or gone). The attempt count is kept.
 */
export async function requeueComputation(
  store: ComputationStore,
  key: string,
  fields: RequeueFields = {},
  options: LifecycleOptions = {},
): Promise<ComputationRecord | undefined> {
  const patch: ComputationPatch = { status: 'pending', startedAt: undefined };
  if (fields.error !== undefined) patch.error = serializeError(fields.error);
  if (fields.runAt !== undefined) patch.runAt = fields.runAt;
  if (fields.progress !== undefined) patch.progress = fields.progress.value;
  if (fields.logs !== undefined) patch.logs = fields.logs;
  if (fields.history !== undefined) patch.history = fields.history;
  return persist({
    operation: 'requeue',
    key,
    write: () => store.update(key, patch, { ifStatus: ['running'] }),
    landed: async () => {
      // Only this worker held the record `running`: pending again with our runAt is our write.
      const record = await store.get(key);
      return record?.status === 'pending' && record.runAt === fields.runAt ? record : undefined;
    },
    // Named, not spread: a spread in a literal costs a slow copy on every write.
    retry: options.retry,
    clock: options.clock,
    logger: options.logger,
    signal: options.signal,
  });
}
