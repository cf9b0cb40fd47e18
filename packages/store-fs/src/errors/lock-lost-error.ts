import { AuError } from '@au/core';

/**
 * This process held a key's lock for so long (past `lockStaleAfter`) that another process
 * judged it stale and took it over; the write was abandoned so as not to overwrite theirs.
 */
export class LockLostError extends AuError {
  readonly key: string;

  constructor({ key, heldFor, staleAfter }: { key: string; heldFor: number; staleAfter: number }) {
    super('AU_LOCK_LOST', {
      message: `[au] [store-fs] the lock on key "${key}" was taken over after ${heldFor} ms (lockStaleAfter is ${staleAfter} ms), so the update was not written: raise lockStaleAfter or find what blocks this process`,
    });
    this.name = 'LockLostError';
    this.key = key;
  }

  static override isInstance(error: unknown): error is LockLostError {
    return AuError.isInstance(error) && error.name === 'LockLostError';
  }
}
