import { Redis, type RedisOptions } from 'ioredis';

/** How to reach Redis: a URL, ioredis options, or an ioredis instance (shared, never closed by au). */
export type RedisConnection = string | RedisOptions | Redis;

/** An ioredis client for one role, and whether au opened it (and so closes it). */
export interface OpenedConnection {
  redis: Redis;
  owned: boolean;
}

/**
 * Opens (or reuses) a connection. Producers fail fast while Redis is down (no offline
 * queue, one retry per command); workers wait and retry forever, as BullMQ requires
 * for their blocking commands. Both reconnect when Redis comes back.
 */
export function openConnection(connection: RedisConnection, role: 'producer' | 'worker'): OpenedConnection {
  if (connection instanceof Redis) return { redis: connection, owned: false };
  const defaults: RedisOptions =
    role === 'producer'
      ? { enableOfflineQueue: false, maxRetriesPerRequest: 1 }
      : { maxRetriesPerRequest: null, enableOfflineQueue: true };
  const redis =
    typeof connection === 'string'
      ? new Redis(connection, defaults)
      : new Redis({
          ...defaults,
          ...connection,
          ...(role === 'worker' ? { maxRetriesPerRequest: null } : {}),
        });
  // Errors surface through the commands that fail; a down Redis must not crash the process.
  redis.on('error', () => undefined);
  return { redis, owned: true };
}

/** Closes a connection au opened. */
export async function closeConnection(opened: OpenedConnection): Promise<void> {
  if (!opened.owned || opened.redis.status === 'end') return;
  try {
    await opened.redis.quit();
  } catch {
    opened.redis.disconnect();
  }
}

/** An error that means Redis could not be reached (down, refused, lost mid-command). */
export function isConnectionError(error: unknown): boolean {
  const { name, message } = (error ?? {}) as { name?: string; message?: string };
  return (
    name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|Command timed out|timed out/.test(
      message ?? '',
    )
  );
}
