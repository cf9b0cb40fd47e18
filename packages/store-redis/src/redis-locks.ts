import { type HeldLock, type LockContext, type LockProvider, type WithLockOptions, withLock } from '@au/core';
import { assertLockKey, assertLockToken, assertLockTtl, checkOptions, optionNames } from '@au/core/kit';
import type { Redis } from 'ioredis';
import { RedisUnavailableError } from './errors/redis-unavailable-error';
import { isConnectionError, openRedis, quit, type RedisConnection } from './redis-connection';
import { RedisKeyLayout } from './redis-key-layout';

export interface RedisLocksOptions {
  /**
   * The connection: an ioredis instance (used as is and left open on `close`), a
   * `redis://` / `rediss://` URL, or ioredis options (both opened and closed here).
   * @default 'redis://127.0.0.1:6379'
   */
  redis?: RedisConnection;
  /**
   * Namespace of the lock keys; becomes the hash tag `{prefix}`, as for `RedisStore`
   * (one instance of both may share a prefix: their keys do not collide). @default 'au'
   */
  prefix?: string;
}

const NAME = 'redis';
const REDIS_LOCKS_OPTIONS = optionNames<RedisLocksOptions>({ redis: true, prefix: true });

// KEYS[1]: the lock, KEYS[2]: the fencing counter. ARGV[1]: ttl ms.
// Returns nil when held, else {token, expiresAt by Redis's clock}.
const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return nil end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token, 'PX', ARGV[1])
local now = redis.call('TIME')
return { token, tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + tonumber(ARGV[1]) }
`;
// KEYS[1]: the lock. ARGV[1]: token, ARGV[2]: ttl ms. 1 when renewed.
const RENEW = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;
// KEYS[1]: the lock. ARGV[1]: token. 1 when released.
const RELEASE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`;

interface LockCommands {
  auLockAcquire(lockKey: string, fenceKey: string, ttl: string): Promise<[number, number] | null>;
  auLockRenew(lockKey: string, token: string, ttl: string): Promise<number>;
  auLockRelease(lockKey: string, token: string): Promise<number>;
}

/**
 * Distributed locks in Redis. A hold is one string key (`{prefix}:l:<key>`) holding its
 * token with a native expiry (`PX ttl`, Redis's clock); acquire, renew and release are
 * Lua scripts, atomic on the server, and renew and release act only while the key still
 * holds the caller's token. Fencing tokens come from one counter per prefix
 * (`{prefix}:lock-fence`, `INCR`), so they strictly increase for every key.
 *
 * Run Redis with `maxmemory-policy noeviction` (as BullMQ requires): an evicted counter
 * would start tokens again from 1.
 *
 * ```ts
 * const locks = new RedisLocks({ redis: 'redis://127.0.0.1:6379' });
 * await locks.withLock('invoice:42', async ({ token }) => send(42, token), { ttl: 10_000 });
 * ```
 */
export class RedisLocks implements LockProvider {
  readonly name = NAME;
  /** The key layout (prefix, hash tag). */
  readonly keys: RedisKeyLayout;
  readonly #redis: Redis & LockCommands;
  readonly #ownsConnection: boolean;

  constructor(options: RedisLocksOptions = {}) {
    checkOptions(`[${NAME}] RedisLocks`, options, REDIS_LOCKS_OPTIONS);
    this.keys = new RedisKeyLayout(options.prefix ?? 'au');
    const { redis, owned } = openRedis(options.redis);
    this.#redis = redis as Redis & LockCommands;
    this.#ownsConnection = owned;
    defineLockScripts(redis);
  }

  async acquire(key: string, ttl: number): Promise<HeldLock | undefined> {
    assertLockKey(key, 'RedisLocks.acquire');
    assertLockTtl(ttl, 'RedisLocks.acquire');
    const reply = await this.#call('acquire', () =>
      this.#redis.auLockAcquire(this.keys.lock(key), this.keys.lockFence(), String(ttl)),
    );
    if (reply === null) return undefined;
    return { key, token: Number(reply[0]), expiresAt: Number(reply[1]) };
  }

  async renew(key: string, token: number, ttl: number): Promise<boolean> {
    assertLockKey(key, 'RedisLocks.renew');
    assertLockToken(token, 'RedisLocks.renew');
    assertLockTtl(ttl, 'RedisLocks.renew');
    const reply = await this.#call('renew', () =>
      this.#redis.auLockRenew(this.keys.lock(key), String(token), String(ttl)),
    );
    return reply === 1;
  }

  async release(key: string, token: number): Promise<boolean> {
    assertLockKey(key, 'RedisLocks.release');
    assertLockToken(token, 'RedisLocks.release');
    const reply = await this.#call('release', () =>
      this.#redis.auLockRelease(this.keys.lock(key), String(token)),
    );
    return reply === 1;
  }

  /** `withLock(this, key, fn, options)`. */
  withLock<T>(key: string, fn: (lock: LockContext) => T | Promise<T>, options: WithLockOptions): Promise<T> {
    return withLock(this, key, fn, options);
  }

  /** Closes the connection when it was opened here (a given ioredis instance stays open). */
  async close(): Promise<void> {
    if (this.#ownsConnection) await quit(this.#redis);
  }

  // ---- private helpers ------------------------------------------------------------

  async #call<T>(operation: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      if (isConnectionError(error))
        throw new RedisUnavailableError({ operation: `lock ${operation}`, cause: error });
      throw error;
    }
  }
}

function defineLockScripts(redis: Redis): void {
  if (typeof (redis as unknown as Partial<LockCommands>).auLockAcquire === 'function') return;
  redis.defineCommand('auLockAcquire', { numberOfKeys: 2, lua: ACQUIRE });
  redis.defineCommand('auLockRenew', { numberOfKeys: 1, lua: RENEW });
  redis.defineCommand('auLockRelease', { numberOfKeys: 1, lua: RELEASE });
}
