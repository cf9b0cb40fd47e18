import { RedisStore } from '@au/store-redis';
import { conformanceTasksUrl, testBackend } from '@au/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { BullMQBackend, backendProvider, redisUrlFromEnv, toBullMQPriority } from '../src/index';
import { redisUp, redisUrl, TestResources } from './helpers';

const resources = new TestResources();
afterAll(() => (redisUp ? resources.cleanup() : undefined));

describe.runIf(redisUp)('backend-bullmq', () => {
  // One prefix for every store of this file: workers and handles share the records.
  const prefix = resources.prefix('conformance');
  testBackend(
    'BullMQBackend',
    ({ store, concurrency }) =>
      new BullMQBackend({
        connection: redisUrl,
        queue: resources.queue('conformance'),
        tasks: [conformanceTasksUrl],
        worker: { store, concurrency: concurrency ?? 20 },
      }),
    { makeStore: () => new RedisStore({ redis: redisUrl, prefix }), manyCount: 500 },
  );

  describe('when mapping priorities', () => {
    it('should keep au order (higher first) in BullMQ order (lower first) and never use 0', () => {
      const au = [-2_000_000, -5, -1, 0, 0.4, 1, 5, 10, 2_000_000];
      const bull = au.map(toBullMQPriority);
      for (let index = 1; index < bull.length; index++)
        expect(bull[index]!).toBeLessThanOrEqual(bull[index - 1]!);
      expect(Math.min(...bull)).toBe(1);
      expect(Math.max(...bull)).toBe(2_097_151);
      expect(toBullMQPriority(10)).toBeLessThan(toBullMQPriority(5));
    });
  });

  describe('when configured from the environment', () => {
    it('should take the queue Redis from AU_REDIS_URL, else a Redis AU_STORE', () => {
      expect(redisUrlFromEnv({ AU_REDIS_URL: 'redis://a:1', AU_STORE: 'redis://b:2' })).toBe('redis://a:1');
      expect(redisUrlFromEnv({ AU_STORE: 'rediss://b:2' })).toBe('rediss://b:2');
      expect(redisUrlFromEnv({ AU_STORE: 'fs:./x' })).toBe('redis://127.0.0.1:6379');
      expect(backendProvider.matches('bullmq')).toBe(true);
      expect(backendProvider.matches('threads')).toBe(false);
    });
  });
});
