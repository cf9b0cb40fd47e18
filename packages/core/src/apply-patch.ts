import type { ComputationPatch, ComputationRecord } from './record';
import { type ComputationStatus, canTransition, isTerminalStatus } from './status';

/**
 * The one rule of conditional updates, shared by every store that updates in
 * JavaScript (stores that update in Lua or SQL mirror it):
 * - no write when `ifStatus` is given and the current status is not in it;
 * - no write that breaks the status machine (`canTransition`);
 * - a terminal record keeps its status, value and error: only bookkeeping fields
 *   (`expiresAt`, `meta`, `tags`, `progress`) may still change.
 * Returns the new record, or `undefined` when nothing may be written.
 */
export function applyPatch(
  current: ComputationRecord,
  patch: ComputationPatch,
  ifStatus?: readonly ComputationStatus[],
): ComputationRecord | undefined {
  if (ifStatus !== undefined && !ifStatus.includes(current.status)) return undefined;
  if (
    patch.status !== undefined &&
    patch.status !== current.status &&
    !canTransition(current.status, patch.status)
  ) {
    return undefined;
  }
  if (isTerminalStatus(current.status) && ('value' in patch || 'error' in patch)) return undefined;
  const next = { ...current, ...patch } as ComputationRecord;
  for (const field of Object.keys(patch) as (keyof ComputationPatch)[]) {
    if (patch[field] === undefined) delete next[field];
  }
  return next;
}

/** Whether a record is past its `expiresAt` at `now`. */
export function isExpired(record: Pick<ComputationRecord, 'expiresAt'>, now: number): boolean {
  return record.expiresAt !== undefined && record.expiresAt <= now;
}
