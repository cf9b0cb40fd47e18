import type { SerializedError } from '@au/core';
import type { PoolRequest } from '@au/core/kit';

/*
 * What only the thread transport sends besides core's pool messages (`PoolRequest`,
 * `PoolResponse`, `WorkerEvent`): batches, aborts, and the shared attempt table.
 */

/** Main → thread: several attempts of short tasks, run one after the other (see `ShortTaskBatcher`). */
export interface BatchRequest {
  batch: PoolRequest[];
}

export function isBatchRequest(request: PoolRequest | BatchRequest): request is BatchRequest {
  return (request as BatchRequest).batch !== undefined;
}

/** Main → every thread (a BroadcastChannel): abort the attempt `id`. */
export interface AbortMessage {
  id: number;
  reason: SerializedError;
}

/** What the threads receive as `workerData`. */
export interface ThreadWorkerData {
  /** Task modules as `file:` URLs (or package names). */
  modules: string[];
  /** Name of the BroadcastChannel that carries aborts. */
  abortChannel: string;
  /**
   * The attempt table (`ATTEMPT_TABLE_SLOTS` × 3 Int32, see `attemptSlot`), shared by every
   * thread: the main thread writes the id of an aborted attempt, a thread writes the id
   * of the attempt it starts and its own threadId. It tells the main thread which thread
   * to terminate, and a thread that an attempt was aborted before it could hear it.
   */
  attemptTable: SharedArrayBuffer;
}

/** Slots in the attempt table: far more than attempts that can be in flight at once. */
export const ATTEMPT_TABLE_SLOTS = 4096;
/** Fields of one slot. */
export const ABORTED = 0;
export const STARTED = 1;
export const THREAD = 2;

/** Index of the first field of attempt `id`'s slot (ids fit an Int32: core's `MAX_ATTEMPT_ID`). */
export function attemptSlot(id: number): number {
  return (id % ATTEMPT_TABLE_SLOTS) * 3;
}

export function newAttemptTable(): SharedArrayBuffer {
  return new SharedArrayBuffer(ATTEMPT_TABLE_SLOTS * 3 * Int32Array.BYTES_PER_ELEMENT);
}
