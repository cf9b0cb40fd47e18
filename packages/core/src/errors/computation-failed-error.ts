import type { SerializedError } from '../record';
import { AuError, isAuErrorNamed } from './au-error';

/**
 * The computation ended `failed`. Carries the remote error as it was stored: the task
 * may have thrown in another thread, process or machine.
 */
export class ComputationFailedError extends AuError {
  readonly key: string;
  readonly remote: SerializedError;

  constructor({ key, remote }: { key: string; remote: SerializedError }) {
    super('AU_COMPUTATION_FAILED', {
      message: `[au] computation "${key}" failed: ${remote.name}: ${remote.message}`,
    });
    this.name = 'ComputationFailedError';
    this.key = key;
    this.remote = remote;
  }

  /** The remote error's name, e.g. `TypeError` or `TimeoutError`. */
  get remoteName(): string {
    return this.remote.name;
  }

  /** The remote error's own message. */
  get remoteMessage(): string {
    return this.remote.message;
  }

  /** The stack where the task threw, when the store kept it. */
  get remoteStack(): string | undefined {
    return this.remote.stack;
  }

  /** The remote error's `code`, when it had one. */
  get remoteCode(): string | undefined {
    return this.remote.code;
  }

  static override isInstance(error: unknown): error is ComputationFailedError {
    return isAuErrorNamed(error, 'ComputationFailedError');
  }
}
