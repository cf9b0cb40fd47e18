import { AuError, isAuErrorNamed } from './au-error';

/**
 * `withLock` could not take the lock: another holder kept it for the whole `wait`
 * (immediately, with the default `wait` of 0). Nothing ran.
 */
export class LockUnavailableError extends AuError {
  readonly key: string;
  /** How long `withLock` waited, in ms (the `wait` option). */
  readonly waited: number;

  constructor({ key, waited }: { key: string; waited: number }) {
    super('AU_LOCK_UNAVAILABLE', {
      message: `[au] [locks] lock "${key}" is held by another holder${waited > 0 ? ` (waited ${waited} ms)` : ''}: retry later or pass a longer wait`,
    });
    this.name = 'LockUnavailableError';
    this.key = key;
    this.waited = waited;
  }

  static override isInstance(error: unknown): error is LockUnavailableError {
    return isAuErrorNamed(error, 'LockUnavailableError');
  }
}
