/**
 * The status machine of a computation.
 *
 * `pending → running → completed | failed | cancelled`, `running → pending` (a retry,
 * or a re-queue after a worker died) and `pending → cancelled`. Terminal statuses
 * never change: a cancel that wins is never overwritten by a late completion.
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
  pending: ['running', 'cancelled'],
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
