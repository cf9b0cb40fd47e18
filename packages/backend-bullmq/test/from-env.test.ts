import { ConfigError, submitTask } from '@au/core';
import { RedisStore } from '@au/store-redis';
import { conformanceTasks, conformanceTasksUrl } from '@au/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { backendProvider, runBullMQWorkerFromEnv } from '../src/index';
import { redisUp, redisUrl, TestResources } from './helpers';

const resources = new TestResources();
afterAll(() => (redisUp ? resources.cleanup() : undefined));

describe.runIf(redisUp)('backend-bullmq', () => {
  describe('when producer and worker are configured from the environment', () => {
    it('should run a computation launched by the provider on the worker from runBullMQWorkerFromEnv', async () => {
      const prefix = resources.prefix('env');
      const env = {
        AU_STORE: redisUrl,
        AU_BACKEND: 'bullmq',
        AU_TASKS: conformanceTasksUrl.href,
        AU_QUEUE: resources.queue('env'),
        AU_REDIS_PREFIX: prefix,
        AU_CONCURRENCY: '2',
        AU_BULLMQ_LOCK_DURATION_MS: '12000',
        AU_BULLMQ_STALLED_INTERVAL_MS: '7000',
        AU_BULLMQ_MAX_STALLED_COUNT: '2',
      };
      const worker = await runBullMQWorkerFromEnv({ env, importModule: (name) => import(name) });
      expect(worker.worker.opts).toMatchObject({
        lockDuration: 12_000,
        stalledInterval: 7000,
        maxStalledCount: 2,
      });
      const store = new RedisStore({ redis: redisUrl, prefix });
      const backend = await backendProvider.create({
        value: 'bullmq',
        env,
        store,
        concurrency: 2,
        taskModules: [conformanceTasksUrl.href],
        tasks: worker.tasks,
      });
      try {
        expect(worker.queueName).toBe(env.AU_QUEUE);
        expect(worker.store.name).toBe('redis');
        const handle = await submitTask(conformanceTasks.add, { a: 20, b: 22 }, { store, backend });
        expect(await handle.result({ timeout: 10_000 })).toBe(42);
        // The provider was given AU_TASKS: a task outside them is refused at launch.
        await expect(
          backend.launch({
            key: 'not-a-task',
            task: 'not.in.modules',
            args: {},
            priority: 0,
            retry: { attempts: 1 },
          }),
        ).rejects.toThrow(/not\.in\.modules/);
      } finally {
        await backend.close();
        await worker.close({ timeout: 2000 });
        await store.close();
      }
    });

    it('should refuse a bad stalled-job timing, naming the variable', async () => {
      const error = await runBullMQWorkerFromEnv({
        env: { AU_STORE: redisUrl, AU_TASKS: conformanceTasksUrl.href, AU_BULLMQ_MAX_STALLED_COUNT: 'many' },
        importModule: (name) => import(name),
      }).catch((caught: unknown) => caught);
      expect(ConfigError.isInstance(error)).toBe(true);
      expect((error as Error).message).toMatch(/AU_BULLMQ_MAX_STALLED_COUNT: must be a whole number/);
    });

    it('should refuse to start a worker without AU_TASKS', async () => {
      await expect(
        runBullMQWorkerFromEnv({
          env: { AU_STORE: redisUrl, AU_REDIS_PREFIX: resources.prefix('none') },
          importModule: (name) => import(name),
        }),
      ).rejects.toThrow(/AU_TASKS/);
    });
  });
});
