import type { SerializedError } from '../../record';
import type { ForwardedLogLevel } from '../worker-reporting';

/*
 * What crosses between a pooled backend and its workers (threads or child processes),
 * whatever carries it. Arguments and results travel codec-encoded; errors serialized.
 */

/** One attempt of one task, for a worker to run. */
export interface PoolRequest {
  /** Unique among the attempts in flight: matches progress, logs and aborts to this attempt. */
  id: number;
  task: string;
  key: string;
  attempt: number;
  /** Name of the computation's codec (`json`, `structured`, or the task's own). */
  codec: string;
  /** The input, encoded with that codec. */
  args: unknown;
  /** The record's `meta` (a trace context, say); absent when empty. */
  meta?: Record<string, unknown>;
}

/**
 * How an attempt ended. `progress` is the last value the task reported; `duration` the
 * ms the task ran (the backend learns which tasks are short from it).
 */
export type PoolResponse =
  | { ok: true; value: unknown; progress?: { value: unknown }; duration?: number }
  | { ok: false; error: SerializedError; progress?: { value: unknown }; duration?: number };

/** Worker → backend, outside the reply: progress and log lines while the task runs. */
export type WorkerEvent =
  | { au: 'progress'; id: number; value: unknown }
  | { au: 'log'; id: number; level: ForwardedLogLevel; args: unknown[] };

/** Attempt ids wrap below 2³¹, so that a transport can keep them in an Int32 (shared memory). */
export const MAX_ATTEMPT_ID = 0x7fffffff;

/** True for a progress or log message a worker sent for au. */
export function isWorkerEvent(message: unknown): message is WorkerEvent {
  return (
    typeof message === 'object' &&
    message !== null &&
    ((message as WorkerEvent).au === 'progress' || (message as WorkerEvent).au === 'log')
  );
}
