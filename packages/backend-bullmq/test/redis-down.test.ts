import { type Invocation, submitTask } from '@au/core';
import { RedisStore } from '@au/store-redis';
import { conformanceTasks, conformanceTasksUrl, RedisServer } from '@au/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { BullMQBackend, type BullMQWorker, QueueUnavailableError, startBullMQWorker } from '../src/index';
import { randomName, redisUp } from './helpers';

const own = await RedisServer.create();
afterAll(() => own.kill());

describe.runIf(redisUp)('backend-bullmq', () => {
  describe('when Redis goes away and comes back', () => {
    it('should fail launches fast while it is down, then carry on once it is back', async () => {
      await own.start();
      const queue = randomName('down');
      const store = new RedisStore({ redis: own.url, prefix: randomName('down') });
      const backend = new BullMQBackend({ connection: own.url, queue, launchTimeout: 2000 });
      let worker: BullMQWorker | undefined;
      try {
        worker = await startBullMQWorker({
          connection: own.url,
          queue,
          store,
          tasks: [conformanceTasksUrl],
          concurrency: 5,
        });
        const before = await submitTask(conformanceTasks.add, { a: 40, b: 2 }, { store, backend });
        expect(await before.result({ timeout: 10_000 })).toBe(42);

        await own.kill();
        const invocation: Invocation = {
          key: randomName('offline'),
          task: conformanceTasks.echo.name,
          args: 'x',
          priority: 0,
          retry: { attempts: 1 },
        };
        let started = Date.now();
        const launchError = await backend.launch(invocation).catch((caught: unknown) => caught);
        expect(QueueUnavailableError.isInstance(launchError), String(launchError)).toBe(true);
        expect((launchError as Error).message).toMatch(
          /\[au\] \[bullmq\] launch on queue .* Redis is unreachable/,
        );
        expect(Date.now() - started).toBeLessThan(4000);

        // Through the whole launch path (record and job in one transaction) just as fast.
        started = Date.now();
        const submitError = await submitTask(conformanceTasks.echo, 'y', { store, backend }).catch(
          (caught: unknown) => caught,
        );
        expect(QueueUnavailableError.isInstance(submitError), String(submitError)).toBe(true);
        expect((submitError as Error).message).toMatch(/Redis is unreachable/);
        expect(Date.now() - started).toBeLessThan(6000);

        await own.start();
        // Producer, store and worker reconnect by themselves.
        let result: unknown;
        const deadline = Date.now() + 20_000;
        while (result === undefined && Date.now() < deadline) {
          try {
            const handle = await submitTask(conformanceTasks.add, { a: 1, b: 2 }, { store, backend });
            result = await handle.result({ timeout: 5000 });
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 250));
          }
        }
        expect(result).toBe(3);
      } finally {
        await worker?.close({ timeout: 1000 });
        await backend.close();
        await store.close();
        await own.kill();
      }
    }, 60_000);
  });
});
