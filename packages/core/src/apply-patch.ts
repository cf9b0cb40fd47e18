import type { ComputationPatch, ComputationRecord } from './record';
import { type ComputationStatus, canTransition, isTerminalStatus } from './status';

/**
 * The one rule of conditional updates, shared by every store that updates in
 * JavaScript (stores that update in Lua or SQL mirror it):
 * - no write when `ifStatus` is given and the current status is not in it;
 * - no write that breaks the status machine (`canTransition`);
 * - a terminal record keeps its status, value and error: only bookkeeping fields
 *   (`expiresAt`, `meta`, `tags`, `progress`) may still change;
 * - except with `reopen` (core's retry): a `failed` or `cancelled` record may go back to
 *   `pending`, its value and error cleared.
 * Returns the new record, or `undefined` when nothing may be written.
 */
export function applyPatch(
  current: ComputationRecord,
  patch: ComputationPatch,
  ifStatus?: readonly ComputationStatus[],
  reopen = false,
): ComputationRecord | undefined {
  if (ifStatus !== undefined && !ifStatus.includes(current.status)) return undefined;
  if (reopen && isReopening(current.status, patch.status)) return merged(current, patch);
  if (
    patch.status !== undefined &&
    patch.status !== current.status &&
    !canTransition(current.status, patch.status)
  ) {
    return undefined;
  }
  if (isTerminalStatus(current.status) && ('value' in patch || 'error' in patch)) return undefined;
  return merged(current, patch);
}

/** Whether a patch re-opens a record: `failed | cancelled → pending` (see `UpdateOptions.reopen`). */
export function isReopening(from: ComputationStatus, to: ComputationStatus | undefined): boolean {
  return (from === 'failed' || from === 'cancelled') && to === 'pending';
}

function merged(current: ComputationRecord, patch: ComputationPatch): ComputationRecord {
  const next = { ...current } as Record<string, unknown>;
  let removes = false;
  for (const field in patch) {
    const value = patch[field as keyof ComputationPatch];
    if (value !== undefined) next[field] = value;
    else if (next[field] !== undefined) removes = true;
  }
  // Removing fields with `delete` would turn the record into a slow dictionary-mode
  // object (and every copy of it): rebuild it instead, only when a field it has goes away.
  // A field the patch clears and the record never had is simply not added.
  return (removes ? withoutCleared(next, patch) : next) as unknown as ComputationRecord;
}

/** Whether a record is past its `expiresAt` at `now`. */
export function isExpired(record: Pick<ComputationRecord, 'expiresAt'>, now: number): boolean {
  return record.expiresAt !== undefined && record.expiresAt <= now;
}

function withoutCleared(record: Record<string, unknown>, patch: ComputationPatch): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const field in record) {
    const value = record[field];
    if (value !== undefined && !(field in patch && patch[field as keyof ComputationPatch] === undefined)) {
      copy[field] = value;
    }
  }
  return copy;
}
