import type { SerializedError } from '@au/core';
import type { PoolRequest, PoolResponse, WorkerEvent } from '@au/core/kit';

/*
 * What crosses the IPC channel between the parent and its worker processes (JSON
 * serialization), around core's pool messages (`PoolRequest`, `PoolResponse`,
 * `WorkerEvent`).
 */

/** Parent → child. */
export type ParentMessage =
  | { type: 'init'; modules: string[] }
  | { type: 'run'; request: PoolRequest }
  /** Attempts of short tasks, run one after the other, answered by one `batch-done` (id: the first's). */
  | { type: 'batch'; requests: PoolRequest[] }
  | { type: 'abort'; id: number; reason: SerializedError };

/** Child → parent: replies, a crash report, and progress and log lines (`WorkerEvent`). */
export type ChildMessage =
  | { type: 'done'; id: number; response: PoolResponse }
  | { type: 'batch-done'; id: number; responses: PoolResponse[] }
  | { type: 'crash'; id: number | undefined; error: SerializedError }
  | WorkerEvent;
