import { type HeldLock, type LockContext, type LockProvider, type WithLockOptions, withLock } from '@au/core';
import { assertLockKey, assertLockToken, assertLockTtl } from '@au/core/kit';
import type { RpcTransport } from './rpc-transport';

/**
 * Locks over the migration's `au_lock_*` SQL functions and `au_locks` table, through any
 * transport (`pg` or supabase-js `rpc()`); `PostgresLocks` and `SupabaseLocks` only
 * choose the transport. Each operation is one statement on the database's clock: acquire
 * inserts the key's row or takes it over when its hold has expired, drawing the next
 * token from the row itself, so a key's tokens strictly increase.
 */
export class SqlFunctionLocks implements LockProvider {
  readonly name: string;
  /** How the functions are called. */
  readonly transport: RpcTransport;
  /** The class name in messages, e.g. `PostgresLocks`. */
  readonly #who: string;

  constructor(transport: RpcTransport, who = 'SqlFunctionLocks') {
    this.transport = transport;
    this.name = transport.name;
    this.#who = who;
  }

  async acquire(key: string, ttl: number): Promise<HeldLock | undefined> {
    assertLockKey(key, `${this.#who}.acquire`);
    assertLockTtl(ttl, `${this.#who}.acquire`);
    // Not retried on a network failure: a lost answer would leave the first try's hold
    // unknown to us (it then expires after ttl), and a retry would find it taken.
    const held = await this.transport.call<{ token: number | string; expiresAt: number | string } | null>(
      'au_lock_acquire',
      { p_key: key, p_ttl_ms: ttl },
    );
    if (held === null || held === undefined) return undefined;
    return { key, token: Number(held.token), expiresAt: Number(held.expiresAt) };
  }

  async renew(key: string, token: number, ttl: number): Promise<boolean> {
    assertLockKey(key, `${this.#who}.renew`);
    assertLockToken(token, `${this.#who}.renew`);
    assertLockTtl(ttl, `${this.#who}.renew`);
    const renewed = await this.transport.call<boolean>(
      'au_lock_renew',
      { p_key: key, p_token: token, p_ttl_ms: ttl },
      { idempotent: true },
    );
    return renewed === true;
  }

  async release(key: string, token: number): Promise<boolean> {
    assertLockKey(key, `${this.#who}.release`);
    assertLockToken(token, `${this.#who}.release`);
    const released = await this.transport.call<boolean>(
      'au_lock_release',
      { p_key: key, p_token: token },
      { idempotent: true },
    );
    return released === true;
  }

  /** `withLock(this, key, fn, options)`. */
  withLock<T>(key: string, fn: (lock: LockContext) => T | Promise<T>, options: WithLockOptions): Promise<T> {
    return withLock(this, key, fn, options);
  }

  /** Releases what the transport owns (a pool opened from a URL). */
  async close(): Promise<void> {
    await this.transport.close();
  }
}
