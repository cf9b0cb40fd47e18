import type { ComputationStatus } from '../status';
import { AuError, isAuErrorNamed } from './au-error';

/**
 * A retry asked of a computation that is not `failed` or `cancelled`: one still pending or
 * running (wait for it to end, or cancel it first), or one that completed (launch it again
 * under a new key). Nothing was changed.
 */
export class RetryNotAllowedError extends AuError {
  readonly key: string;
  /** The computation's status when the retry was refused. */
  readonly status: ComputationStatus;

  constructor({ key, status, cause }: { key: string; status: ComputationStatus; cause?: unknown }) {
    super('AU_RETRY_NOT_ALLOWED', {
      message: `[au] computation "${key}" is ${status}: only a failed or cancelled computation can be retried; ${ADVICE[status]}`,
      cause,
    });
    this.name = 'RetryNotAllowedError';
    this.key = key;
    this.status = status;
  }

  static override isInstance(error: unknown): error is RetryNotAllowedError {
    return isAuErrorNamed(error, 'RetryNotAllowedError');
  }
}

const ADVICE: Record<ComputationStatus, string> = {
  pending: 'it has not run yet: wait for it to end, or cancel it and retry',
  running: 'wait for it to end, or cancel it and retry',
  completed: 'its result is kept: launch it again under a new key to compute it again',
  failed: 'it changed while the retry was being written: try again',
  cancelled: 'it changed while the retry was being written: try again',
};
