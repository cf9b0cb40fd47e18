import { InProcessBackend, StoreScheduler, TaskRegistry } from '@au/core';
import { conformanceTasks, testSchedules } from '@au/testing';
import { Redis } from 'ioredis';
import { afterAll, describe } from 'vitest';
import { RedisStore } from '../src/index';
import { deletePrefixes, randomPrefix, redisAvailable, redisUrl } from './redis-test-helpers';

const available = await redisAvailable();
const prefixes = new Set<string>();
const admin = new Redis(redisUrl, { lazyConnect: true });
const tasks = new TaskRegistry(Object.values(conformanceTasks));

afterAll(async () => {
  if (available) await deletePrefixes(admin, prefixes);
  admin.disconnect();
});

describe.runIf(available)('store-redis schedules', () => {
  // Each scheduler opens its own store connection and backend over one prefix, as
  // separate processes would.
  testSchedules('StoreScheduler over RedisStore', () => {
    const prefix = randomPrefix('schedules');
    prefixes.add(prefix);
    const store = new RedisStore({ redis: redisUrl, prefix });
    const opened: { store: RedisStore; backend: InProcessBackend }[] = [];
    return {
      store,
      openScheduler() {
        const own = { store: new RedisStore({ redis: redisUrl, prefix }), backend: new InProcessBackend() };
        opened.push(own);
        return new StoreScheduler({ ...own, findTask: (name) => tasks.find(name), pollInterval: 50 });
      },
      async close() {
        for (const own of opened) {
          await own.backend.close({ timeout: 1000 });
          await own.store.close();
        }
        await store.close();
      },
    };
  });
});
