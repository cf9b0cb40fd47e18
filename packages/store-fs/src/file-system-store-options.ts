import type { Clock } from '@au/core';
import type { CorruptRecordError } from './errors/corrupt-record-error';

/** Options of `FileSystemStore`. Every field is optional. */
export interface FileSystemStoreOptions {
  /**
   * Directory holding the records; created (with its parents) when missing. Records sit
   * in 256 shard directories under it (`<root>/<2 hex digits>/<key>.json`).
   * @default join(os.tmpdir(), 'au-computations')
   */
  root?: string;
  /**
   * Runs `cleanupExpired` in the background now and then, on access (get, create, update,
   * delete, list), like the Python au's `auto_cleanup`.
   * @default true
   */
  autoCleanup?: boolean;
  /** Chance, from 0 to 1, that an access starts an automatic cleanup. @default 0.01 */
  cleanupProbability?: number;
  /**
   * Least milliseconds between two automatic cleanups of this store instance: a cleanup
   * reads every record file, so it is never run on every access.
   * @default 60_000
   */
  cleanupInterval?: number;
  /** Time source for TTL checks (`expiresAt`) and automatic cleanups. @default systemClock */
  clock?: Clock;
  /**
   * Milliseconds between two reads of a watched record: the safety net under file-system
   * events, and the only way changes are seen when `fsEvents` is off or unavailable.
   * @default 500
   */
  pollInterval?: number;
  /** Let `watch` use `fs.watch` on the shard directory (falls back to polling when it fails). @default true */
  fsEvents?: boolean;
  /** Milliseconds to wait for a key locked by another live process before `LockTimeoutError`. @default 10_000 */
  lockTimeout?: number;
  /**
   * Milliseconds after which a lock is taken over even if its owner process still exists
   * (a lock whose owner died on this machine is taken over at once). A write holds a lock
   * for milliseconds.
   * @default 30_000
   */
  lockStaleAfter?: number;
  /**
   * `fdatasync` each record file before it replaces the old one, and its directory after:
   * records survive a power loss, at a large cost in speed. Without it they survive any
   * crash of the process (the kernel holds the data).
   * @default false
   */
  durable?: boolean;
  /**
   * Called for each corrupt or foreign `.json` file that `list`, `cleanupExpired` or `watch`
   * meets and skips (`get`, `update` and `create` throw the error instead).
   * @default emits a process warning (`AU_CORRUPT_RECORD`) once per file
   */
  onCorrupt?: (error: CorruptRecordError) => void;
}
