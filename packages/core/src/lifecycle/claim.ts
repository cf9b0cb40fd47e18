import { applyPatch } from '../apply-patch';
import type { ClaimOptions, ClaimResult, ComputationStore } from '../contracts/store';
import type { ComputationPatch, ComputationRecord } from '../record';
import type { LifecycleOptions } from './ending';
import { persist } from './store-retry';

/**
 * The claim rule, shared by stores that claim in JavaScript (stores that claim in Lua
 * or SQL mirror it): a `pending` record, or a `running` one when `reclaimRunning` is
 * set, becomes `running` with the attempt counted and `runAt` cleared. Returns the new
 * record, or `undefined` when the record may not be claimed.
 */
export function applyClaim(current: ComputationRecord, options: ClaimOptions): ComputationRecord | undefined {
  if (!isClaimable(current, options.reclaimRunning)) return undefined;
  return applyPatch(current, claimPatch(current, options.now));
}

/**
 * Claims a computation for one attempt (`pending → running`, the attempt counted): one
 * `store.claim` where the store has it, else a `get` and a conditional `update` (the
 * same result, one round trip more). Retries through a store outage; a claim whose
 * reply was lost is recognised by its `startedAt`, so it is not mistaken for another
 * worker's.
 */
export function claimComputation(
  store: ComputationStore,
  key: string,
  options: ClaimOptions,
  lifecycle: LifecycleOptions = {},
): Promise<ClaimResult> {
  return persist<ClaimResult>({
    operation: 'claim',
    key,
    write: () => claimOnce(store, key, options),
    landed: async () => {
      const record = await store.get(key);
      return record?.status === 'running' && record.startedAt === options.now
        ? { claimed: true, record }
        : undefined;
    },
    // Named, not spread: a spread in a literal costs a slow copy on every write.
    retry: lifecycle.retry,
    clock: lifecycle.clock,
    logger: lifecycle.logger,
    signal: lifecycle.signal,
  }) as Promise<ClaimResult>;
}

function claimOnce(store: ComputationStore, key: string, options: ClaimOptions): Promise<ClaimResult> {
  return store.claim !== undefined ? store.claim(key, options) : claimByUpdate(store, key, options);
}

/** A claim as a `get` and a conditional `update`, for a store without `claim`. */
async function claimByUpdate(
  store: ComputationStore,
  key: string,
  options: ClaimOptions,
): Promise<ClaimResult> {
  const current = await store.get(key);
  if (current === undefined) return { claimed: false, record: undefined };
  if (!isClaimable(current, options.reclaimRunning)) return { claimed: false, record: current };
  const running = await store.update(key, claimPatch(current, options.now), { ifStatus: [current.status] });
  if (running === undefined) return { claimed: false, record: await store.get(key) };
  return { claimed: true, record: running };
}

/** Whether an attempt may start on this record: `pending`, or `running` when reclaiming. */
export function isClaimable(record: ComputationRecord, reclaimRunning = false): boolean {
  return record.status === 'pending' || (reclaimRunning && record.status === 'running');
}

/** The write a claim makes on `current` at `now` (for stores that send it themselves). */
export function claimPatch(current: ComputationRecord, now: number): ComputationPatch {
  const attempt = current.attempt + 1;
  return current.runAt === undefined
    ? { status: 'running', attempt, startedAt: now }
    : { status: 'running', attempt, startedAt: now, runAt: undefined };
}
