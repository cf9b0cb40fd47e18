import { ConfigError, submitTask, TaskRegistry } from '@au/core';
import { RedisStore } from '@au/store-redis';
import { collectingLogger, conformanceTasks, conformanceTasksUrl } from '@au/testing';
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

    it("should give the provider's logger to the backend and its embedded worker", async () => {
      const prefix = resources.prefix('env-logger');
      const env = {
        AU_STORE: redisUrl,
        AU_BACKEND: 'bullmq',
        AU_TASKS: conformanceTasksUrl.href,
        AU_QUEUE: resources.queue('env-logger'),
        AU_REDIS_PREFIX: prefix,
        AU_BULLMQ_EMBEDDED_WORKER: 'true',
      };
      const store = new RedisStore({ redis: redisUrl, prefix });
      const logger = collectingLogger();
      const registry = new TaskRegistry([conformanceTasks.add]);
      const backend = await backendProvider.create({
        value: 'bullmq',
        env,
        store,
        concurrency: 1,
        taskModules: [conformanceTasksUrl.href],
        tasks: registry,
        logger,
      });
      try {
        await backend.bind?.(store);
        // A job whose record is nowhere: the worker drops it and says so, in this logger.
        await backend.launch({
          key: 'env-logger-no-record',
          task: conformanceTasks.add.name,
          args: { a: 1, b: 1 },
          priority: 0,
          retry: { attempts: 1 },
        });
        for (let tries = 0; tries < 100 && logger.mentioning('env-logger-no-record').length === 0; tries++) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect(logger.mentioning('has no record', ['warn'])).not.toHaveLength(0);
      } finally {
        await backend.close();
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
