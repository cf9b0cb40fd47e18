import { AuError, isAuErrorNamed } from './au-error';

/**
 * A lock held by `withLock` ended before its function did: a renewal found the hold
 * over (it expired, e.g. after a long pause, or someone released its token), or the
 * provider stayed unreachable until the hold expired. The function's `signal` aborts
 * with this error, and `withLock` rejects with it: the work may have overlapped with the
 * next holder's (guard the resource with the fencing token).
 */
export class LockLostError extends AuError {
  readonly key: string;
  readonly token: number;

  constructor({ key, token, cause }: { key: string; token: number; cause?: unknown }) {
    super('AU_LOCK_LOST', {
      message: `[au] [locks] lock "${key}" (token ${token}) was lost before the work ended: another holder may have taken it`,
      cause,
    });
    this.name = 'LockLostError';
    this.key = key;
    this.token = token;
  }

  static override isInstance(error: unknown): error is LockLostError {
    return isAuErrorNamed(error, 'LockLostError');
  }
}
