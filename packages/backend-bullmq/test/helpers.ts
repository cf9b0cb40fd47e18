import { randomUUID } from 'node:crypto';
import { requireService } from '@au/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

export const redisUrl = process.env.AU_REDIS_URL || 'redis://127.0.0.1:6379';

/** Under CI a missing Redis fails; elsewhere the suites are skipped with a loud warning. */
export const redisUp = await requireService('redis', redisUrl);

export function randomName(label: string): string {
  return `au-test-${label}-${randomUUID().slice(0, 8)}`;
}

/** Queue names and store prefixes a test file used, removed after it. */
export class TestResources {
  readonly queues = new Set<string>();
  readonly prefixes = new Set<string>();

  queue(label: string): string {
    const name = randomName(label);
    this.queues.add(name);
    return name;
  }

  prefix(label: string): string {
    const name = randomName(label);
    this.prefixes.add(name);
    return name;
  }

  async cleanup(): Promise<void> {
    const redis = new Redis(redisUrl);
    try {
      for (const name of this.queues) {
        const queue = new Queue(name, { connection: redis });
        await queue.obliterate({ force: true }).catch(() => undefined);
        await queue.close();
        await deletePattern(redis, `bull:${name}:*`);
      }
      for (const prefix of this.prefixes) await deletePattern(redis, `{${prefix}}*`);
    } finally {
      redis.disconnect();
    }
  }
}

async function deletePattern(redis: Redis, pattern: string): Promise<void> {
  const escaped = pattern.replace(/[[\]]/g, '\\$&');
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', escaped, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}
