/**
 * The status machine of a computation (docs/lifecycle.md draws it):
 *
 * - `pending → running`: an attempt is claimed (`claimComputation`);
 * - `running → completed | failed`: the attempt ends (`completeComputation`, `failComputation`);
 * - `running → pending`: a retry, or a give-back after a worker was lost (`requeueComputation`);
 * - `pending | running → cancelled`: a cancel (`cancelComputation`, `recordCancelled`);
 * - `pending → failed`: a computation that can never start: a refused launch, a task
 *   the worker does not have, a job its queue gave up on (`failComputation`, `from: 'active'`).
 *
 * Terminal statuses never change by a late write: a cancel that wins is never overwritten
 * by a late completion. Only core's explicit `retryComputation` (retry, redrive) re-opens
 * a `failed` or `cancelled` one (`→ pending`), keeping its attempt history. Only core's
 * lifecycle operations (above) write a status.
 */
export type ComputationStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';

/** Every status, in the order a computation goes through them. */
export const COMPUTATION_STATUSES: readonly ComputationStatus[] = [
  'pending',
  'running',
  'completed',
  'failed',
  'cancelled',
];

/** The statuses a computation ends in; none of them ever changes again. */
export const TERMINAL_STATUSES: readonly ComputationStatus[] = ['completed', 'failed', 'cancelled'];

/** The statuses of a computation that has not ended yet. */
export const ACTIVE_STATUSES: readonly ComputationStatus[] = ['pending', 'running'];

const allowedTransitions: Record<ComputationStatus, readonly ComputationStatus[]> = {
  pending: ['running', 'failed', 'cancelled'],
  running: ['pending', 'completed', 'failed', 'cancelled'],
  completed: [],
  failed: [],
  cancelled: [],
};

/** True for `completed`, `failed` and `cancelled`. */
export function isTerminalStatus(status: ComputationStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}

/** True when `value` is one of the five statuses. */
export function isComputationStatus(value: unknown): value is ComputationStatus {
  return typeof value === 'string' && (COMPUTATION_STATUSES as readonly string[]).includes(value);
}

/**
 * Whether a record may move from `from` to `to`. Staying in the same non-terminal
 * status is allowed (a progress write keeps `running`); nothing leaves a terminal status.
 */
export function canTransition(from: ComputationStatus, to: ComputationStatus): boolean {
  if (from === to) return !isTerminalStatus(from);
  return allowedTransitions[from].includes(to);
}
