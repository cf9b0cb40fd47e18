import { type Clock, systemClock } from '../clock';
import type { ComputationBackend } from '../contracts/backend';
import type { ComputationStore } from '../contracts/store';
import { CancelledError } from '../errors/cancelled-error';
import type { TaskLogger } from '../task';
import { recordCancelled } from './record-cancelled';

export interface CancelComputationOptions {
  store: ComputationStore;
  backend: ComputationBackend;
  key: string;
  reason?: string;
  clock?: Clock;
  logger?: TaskLogger;
}

/**
 * Cancels a computation: first the store decides (an atomic `pending|running →
 * cancelled`), so a late completion can never overwrite the cancel; then the backend
 * stops the work. Returns `true` when the computation was still pending or running.
 */
export async function cancelComputation({
  store,
  backend,
  key,
  reason,
  clock = systemClock,
  logger,
}: CancelComputationOptions): Promise<boolean> {
  const current = await store.get(key);
  if (current === undefined || (current.status !== 'pending' && current.status !== 'running')) return false;
  const record = await recordCancelled({
    store,
    key,
    error: new CancelledError({ key, ...(reason === undefined ? {} : { reason }) }),
    ttl: current.ttl,
    clock,
  });
  if (record === undefined) return false;
  try {
    await backend.cancel(key, reason);
  } catch (cancelError) {
    // The record already says cancelled and no late result can replace it; the work
    // itself may run on until its worker notices.
    logger?.warn({ err: cancelError, key }, `[au] [${backend.name}] could not stop the cancelled work`);
  }
  return true;
}
