import { Redis, type RedisOptions } from 'ioredis';

/** What a store or lock provider is given to reach Redis. */
export type RedisConnection = Redis | string | RedisOptions;

/**
 * The connection to use: an ioredis instance as it is (owned by the caller), else a new
 * one (owned by us) that fails a command after a few reconnect attempts instead of
 * queueing it for as long as Redis is down, and pipelines concurrent commands.
 */
export function openRedis(connection: RedisConnection = 'redis://127.0.0.1:6379'): {
  redis: Redis;
  owned: boolean;
} {
  if (connection instanceof Redis) return { redis: connection, owned: false };
  const defaults: RedisOptions = { maxRetriesPerRequest: 2, enableAutoPipelining: true };
  const redis =
    typeof connection === 'string'
      ? new Redis(connection, defaults)
      : new Redis({ ...defaults, ...connection });
  redis.on('error', () => undefined);
  return { redis, owned: true };
}

/** Whether an ioredis error means Redis did not answer (down, unreachable, connection lost). */
export function isConnectionError(error: unknown): boolean {
  const { name, message } = (error ?? {}) as { name?: string; message?: string };
  return (
    name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Command timed out/.test(
      message ?? '',
    )
  );
}

/** Closes a connection politely, or at once when Redis does not answer. */
export async function quit(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}
