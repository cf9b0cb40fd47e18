import { type Clock, systemClock } from '../clock';
import type { HeldLock, LockProvider } from '../contracts/lock';
import { checkOptions, optionNames } from '../internal/check-options';
import { assertLockKey, assertLockToken, assertLockTtl } from './lock-arguments';
import { type LockContext, type WithLockOptions, withLock } from './with-lock';

export interface MemoryLocksOptions {
  /** Time source for holds' expiry. @default systemClock */
  clock?: Clock;
}

const NAME = 'memory';
const MEMORY_LOCKS_OPTIONS = optionNames<MemoryLocksOptions>({ clock: true });

/**
 * Locks inside one process (tests, single-process apps, the in-process backend's
 * neighbours). Same semantics as the distributed providers: holds expire after their
 * ttl, tokens strictly increase per key. Each key's last token is kept after release
 * (a few bytes per key ever locked) so that tokens never go back.
 */
export class MemoryLocks implements LockProvider {
  readonly name = NAME;
  readonly #clock: Clock;
  /** Per key: the last token issued and until when its hold lasts (0 once released). */
  readonly #holds = new Map<string, { token: number; expiresAt: number }>();

  constructor(options: MemoryLocksOptions = {}) {
    checkOptions('MemoryLocks', options, MEMORY_LOCKS_OPTIONS);
    this.#clock = options.clock ?? systemClock;
  }

  async acquire(key: string, ttl: number): Promise<HeldLock | undefined> {
    assertLockKey(key, 'MemoryLocks.acquire');
    assertLockTtl(ttl, 'MemoryLocks.acquire');
    const now = this.#clock.now();
    const hold = this.#holds.get(key);
    if (hold !== undefined && hold.expiresAt > now) return undefined;
    const next = { token: (hold?.token ?? 0) + 1, expiresAt: now + ttl };
    this.#holds.set(key, next);
    return { key, ...next };
  }

  async renew(key: string, token: number, ttl: number): Promise<boolean> {
    assertLockKey(key, 'MemoryLocks.renew');
    assertLockToken(token, 'MemoryLocks.renew');
    assertLockTtl(ttl, 'MemoryLocks.renew');
    const hold = this.#live(key, token);
    if (hold === undefined) return false;
    hold.expiresAt = this.#clock.now() + ttl;
    return true;
  }

  async release(key: string, token: number): Promise<boolean> {
    assertLockKey(key, 'MemoryLocks.release');
    assertLockToken(token, 'MemoryLocks.release');
    const hold = this.#live(key, token);
    if (hold === undefined) return false;
    hold.expiresAt = 0;
    return true;
  }

  /** `withLock(this, key, fn, options)`. */
  withLock<T>(key: string, fn: (lock: LockContext) => T | Promise<T>, options: WithLockOptions): Promise<T> {
    return withLock(this, key, fn, { clock: this.#clock, ...options });
  }

  async close(): Promise<void> {}

  #live(key: string, token: number): { token: number; expiresAt: number } | undefined {
    const hold = this.#holds.get(key);
    return hold !== undefined && hold.token === token && hold.expiresAt > this.#clock.now()
      ? hold
      : undefined;
  }
}
