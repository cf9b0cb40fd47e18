import { AuError } from '@au/core';

/** The per-key lock file stayed held by a live process for longer than `lockTimeout`. */
export class LockTimeoutError extends AuError {
  readonly key: string;
  /** Path of the lock file. */
  readonly file: string;

  constructor({ key, file, timeout, owner }: { key: string; file: string; timeout: number; owner: string }) {
    super('AU_LOCK_TIMEOUT', {
      message: `[au] [store-fs] key "${key}" stayed locked for ${timeout} ms by ${owner} (lock file "${file}"): retry later; if no au process uses this directory any more, delete the lock file`,
    });
    this.name = 'LockTimeoutError';
    this.key = key;
    this.file = file;
  }

  static override isInstance(error: unknown): error is LockTimeoutError {
    return AuError.isInstance(error) && error.name === 'LockTimeoutError';
  }
}
