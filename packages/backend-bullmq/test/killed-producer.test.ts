import { RedisStore } from '@au/store-redis';
import { conformanceTasksUrl, killProducerMidLaunch, unfinishedAfter } from '@au/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { BullMQBackend } from '../src/index';
import { redisUp, redisUrl, TestResources } from './helpers';

const resources = new TestResources();
afterAll(() => (redisUp ? resources.cleanup() : undefined));

describe.runIf(redisUp)('backend-bullmq', () => {
  describe('when a producer is killed in the middle of launches', () => {
    it.each([
      ['', {}],
      [' with keys of their own', { KEYED: '1' }],
    ])(
      'should leave no record without its job%s: every computation it created runs',
      async (_, keyed) => {
        const queue = resources.queue('killed-producer');
        const prefix = resources.prefix('killed-producer');
        await killProducerMidLaunch(new URL('./fixtures/producer-process.ts', import.meta.url), {
          launchFor: 300,
          env: { AU_REDIS_URL: redisUrl, AU_QUEUE: queue, STORE_PREFIX: prefix, LAUNCHERS: '20', ...keyed },
          execArgv: ['--conditions=@au/source', '--import', 'tsx'],
        });
        const store = new RedisStore({ redis: redisUrl, prefix });
        const backend = new BullMQBackend({
          connection: redisUrl,
          queue,
          tasks: [conformanceTasksUrl],
          worker: { store, concurrency: 20 },
        });
        try {
          await backend.bind(store);
          const created = await store.count({});
          expect(created).toBeGreaterThan(20);
          // Every record the producer created has a job: the worker ends them all.
          expect(await unfinishedAfter(store, 20_000)).toBe(0);
          expect(await store.count({ status: 'completed' })).toBe(created);
        } finally {
          await backend.close({ timeout: 2000 });
          await store.close();
        }
      },
      60_000,
    );
  });
});
