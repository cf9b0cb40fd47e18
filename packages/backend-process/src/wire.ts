import type { SerializedError } from '@au/core';
import type { ForwardedLogLevel } from '@au/core/kit';

/*
 * What crosses the IPC channel between the parent and its worker processes (JSON
 * serialization). Arguments and results travel codec-encoded (JSON-compatible data);
 * errors travel serialized.
 */

/** One attempt of one task. */
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

/**
 * How an attempt ended. `progress` is the last value the task reported; `duration` the
 * ms the task ran (the parent learns which tasks are short from it).
 */
export type RunResponse =
  | { ok: true; value: unknown; progress?: { value: unknown }; duration?: number }
  | { ok: false; error: SerializedError; progress?: { value: unknown }; duration?: number };

/** Parent → child. */
export type ParentMessage =
  | { type: 'init'; modules: string[] }
  | { type: 'run'; request: RunRequest }
  /** Attempts of short tasks, run one after the other, answered by one `batch-done` (id: the first's). */
  | { type: 'batch'; requests: RunRequest[] }
  | { type: 'abort'; id: number; reason: SerializedError };

/** Child → parent. */
export type ChildMessage =
  | { type: 'done'; id: number; response: RunResponse }
  | { type: 'batch-done'; id: number; responses: RunResponse[] }
  | { type: 'progress'; id: number; value: unknown }
  | { type: 'log'; id: number; level: ForwardedLogLevel; args: unknown[] }
  | { type: 'crash'; id: number | undefined; error: SerializedError };

/** Progress and log lines of a running attempt. */
export type AttemptEvent = Extract<ChildMessage, { type: 'progress' | 'log' }>;
