/**
 * # LockProvider
 *
 * Where distributed locks live: one holder per key at a time, each hold bounded by a
 * time-to-live so that a holder that dies frees the key once its hold expires. Users call
 * `withLock(locks, key, fn, { ttl })` (or `locks.withLock(...)`), which acquires, renews
 * while `fn` runs and releases; the methods below are the primitive a provider implements.
 *
 * **Fencing token.** Every successful `acquire` returns a `token`: a positive safe integer
 * (a JavaScript `number`) strictly greater than every token issued before for the same
 * key, by any holder in any process. A holder whose lock expired (a long GC pause, a
 * network partition) may still believe it holds the lock; a resource that remembers the
 * highest token it has seen and refuses writes carrying a lower one stays safe anyway.
 *
 * Time is the provider's (Redis's or PostgreSQL's clock, not the caller's), so holders on
 * machines with skewed clocks agree on who holds a key.
 *
 * Required: `acquire`, `renew`, `release`. Optional: `close`.
 *
 * Left out on purpose: reentrancy (a holder acquiring its own key again is refused like
 * anyone else), shared/read locks, fairness between waiters (waiting is `withLock`'s
 * polling with backoff), and lock queues.
 *
 * Every implementation passes `testLocks` from `@au/testing`.
 */
export interface LockProvider {
  /** Short name for messages, e.g. `memory`, `redis`, `postgres`. */
  readonly name: string;

  /**
   * Takes `key` for `ttl` ms when no one holds it (or the last hold expired). Resolves
   * with the hold, or `undefined` at once when another holder has it (never waits).
   */
  acquire(key: string, ttl: number): Promise<HeldLock | undefined>;

  /**
   * Extends the hold of `token` on `key` to `ttl` ms from now. `false` when that hold is
   * over (expired, released, or taken by another holder): the caller has lost the lock
   * and must stop. An expired hold is lost even when no one has taken the key since.
   */
  renew(key: string, token: number, ttl: number): Promise<boolean>;

  /**
   * Ends the hold of `token` on `key`. `false` when that hold was already over: a stale
   * token never releases another holder's lock.
   */
  release(key: string, token: number): Promise<boolean>;

  /** Releases what the provider owns (connections it opened). Holds are not released. */
  close?(): Promise<void>;
}

/** One hold of a lock, as `acquire` returns it. */
export interface HeldLock {
  /** The key held. */
  key: string;
  /** The fencing token: a positive safe integer, strictly increasing per key across all holders. */
  token: number;
  /** When the hold ends unless renewed, in ms since the epoch by the provider's clock. */
  expiresAt: number;
}
