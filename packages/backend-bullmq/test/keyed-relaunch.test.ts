import { submitTask } from '@au/core';
import { RedisStore } from '@au/store-redis';
import { conformanceTasks, conformanceTasksUrl } from '@au/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { BullMQBackend } from '../src/index';
import { redisUp, redisUrl, TestResources } from './helpers';

const resources = new TestResources();
afterAll(() => (redisUp ? resources.cleanup() : undefined));

describe.runIf(redisUp)('backend-bullmq keyed relaunch', () => {
  describe('when BullMQ keeps finished jobs and a key runs again past its window', () => {
    it.each([
      ['completed', conformanceTasks.add, { a: 1, b: 1 }, { a: 2, b: 2 }, 4],
      ['failed', conformanceTasks.fail, { message: 'first' }, { message: 'second' }, undefined],
    ] as const)(
      'should drop the old %s job and run the new one',
      async (_state, task, first, second, value) => {
        const store = new RedisStore({ redis: redisUrl, prefix: resources.prefix('relaunch') });
        const backend = new BullMQBackend({
          connection: redisUrl,
          queue: resources.queue('relaunch'),
          tasks: [conformanceTasksUrl],
          // Kept, as a dashboard such as bull-board wants them: the old job id stays taken.
          jobOptions: { removeOnComplete: false, removeOnFail: false },
          worker: { store, concurrency: 2 },
        });
        try {
          const key = `relaunch-${Math.random().toString(36).slice(2)}`;
          const options = { store, backend, key, idempotencyWindow: 0 };
          const one = await submitTask(task as never, first as never, options);
          await one.result({ timeout: 10_000 }).catch(() => undefined);
          const two = await submitTask(task as never, second as never, options);
          const outcome = await two.result({ timeout: 10_000 }).catch((error: Error) => error.message);
          if (value !== undefined) expect(outcome).toBe(value);
          else expect(String(outcome)).toContain('second');
        } finally {
          await backend.close({ timeout: 2000 });
          await store.close();
        }
      },
    );
  });
});
