import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

export const redisUrl = process.env.AU_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Whether Redis answers. Under CI a missing Redis is a failure; elsewhere the tests
 * that need it are skipped with a loud warning.
 */
export async function redisAvailable(): Promise<boolean> {
  const probe = new Redis(redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch (error) {
    if (process.env.CI === 'true')
      throw new Error(`[au] Redis is required under CI at ${redisUrl}`, { cause: error });
    console.warn(`\n⚠️  [au] [store-redis] Redis is not reachable at ${redisUrl}: its tests are SKIPPED\n`);
    return false;
  } finally {
    probe.disconnect();
  }
}

export function randomPrefix(label: string): string {
  return `au-test-${label}-${randomUUID().slice(0, 8)}`;
}

/** Deletes every key of the given prefixes (a SCAN: test cleanup only). */
export async function deletePrefixes(redis: Redis, prefixes: Iterable<string>): Promise<number> {
  let deleted = 0;
  for (const prefix of prefixes) {
    const pattern = `{${prefix}}*`.replace(/[[\]]/g, '\\$&');
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
  }
  return deleted;
}
