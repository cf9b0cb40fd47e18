import type { SerializedError } from '@au/core';
import type { ForwardedLogLevel } from '@au/core/kit';

/*
 * What crosses between the main thread and the pool's threads. Arguments and results
 * travel codec-encoded (JSON-compatible data); errors travel serialized.
 */

/** Main → thread: run one attempt of one task. */
export interface RunRequest {
  /** Unique within one backend: matches progress, logs and aborts to this attempt. */
  id: number;
  task: string;
  key: string;
  attempt: number;
  /** Name of the computation's codec (`json`, `structured`, or the task's own). */
  codec: string;
  /** The input, encoded with that codec. */
  args: unknown;
}

/** Main → thread: several attempts of short tasks, run one after the other (see `ShortTaskBatcher`). */
export interface BatchRequest {
  batch: RunRequest[];
}

/**
 * Thread → main: how the attempt ended. `progress` is the last value the task reported;
 * `duration` the ms the task ran (the main thread learns which tasks are short from it).
 */
export type RunResponse =
  | { ok: true; value: unknown; progress?: { value: unknown }; duration?: number }
  | { ok: false; error: SerializedError; progress?: { value: unknown }; duration?: number };

export function isBatchRequest(request: RunRequest | BatchRequest): request is BatchRequest {
  return (request as BatchRequest).batch !== undefined;
}

/** Thread → main, outside the reply: progress and log lines while the task runs. */
export type ThreadEvent =
  | { au: 'progress'; id: number; value: unknown }
  | { au: 'log'; id: number; level: ForwardedLogLevel; args: unknown[] };

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

/** Attempt ids wrap below 2³¹ so that they fit an Int32. */
export const MAX_ATTEMPT_ID = 0x7fffffff;

/** Index of the first field of attempt `id`'s slot. */
export function attemptSlot(id: number): number {
  return (id % ATTEMPT_TABLE_SLOTS) * 3;
}

export function newAttemptTable(): SharedArrayBuffer {
  return new SharedArrayBuffer(ATTEMPT_TABLE_SLOTS * 3 * Int32Array.BYTES_PER_ELEMENT);
}

/** True for a message a thread posted through `parentPort` for au. */
export function isThreadEvent(message: unknown): message is ThreadEvent {
  return (
    typeof message === 'object' &&
    message !== null &&
    ((message as ThreadEvent).au === 'progress' || (message as ThreadEvent).au === 'log')
  );
}
