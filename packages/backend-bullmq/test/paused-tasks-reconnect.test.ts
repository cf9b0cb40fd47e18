import { defineTask, pauseTask, resumeTask, submitTask } from '@au/core';
import { RedisStore } from '@au/store-redis';
import { RedisServer } from '@au/testing';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { BullMQBackend, startBullMQWorker } from '../src/index';
import { randomName, redisUp } from './helpers';

const report = defineTask({ name: 'reconnect.report', run: (n: number) => n + 1 });
const other = defineTask({ name: 'reconnect.other', run: (n: number) => n * 2 });

// A Redis server of its own: its pub/sub clients are killed without touching other suites'.
describe.runIf(redisUp)('backend-bullmq paused tasks', () => {
  describe("when a task is paused while a worker's subscriber connection is lost", () => {
    it('should park its next job all the same, and run it on resume', async () => {
      const redis = await RedisServer.create();
      await redis.start();
      const queue = randomName('reconnect');
      const store = new RedisStore({ redis: redis.url, prefix: randomName('reconnect') });
      const backend = new BullMQBackend({ connection: redis.url, queue });
      const worker = await startBullMQWorker({ connection: redis.url, queue, store, tasks: [report, other] });
      const admin = new Redis(redis.url);
      try {
        const first = await submitTask(report, 1, { store, backend });
        expect(await first.result({ timeout: 10_000 })).toBe(2);
        // The announcement of the pause goes out while the worker's subscriber is away.
        expect(Number(await admin.client('KILL', 'TYPE', 'pubsub'))).toBeGreaterThan(0);
        await pauseTask(report.name, { backend });
        const held = await submitTask(report, 2, { store, backend });
        const ran = await submitTask(other, 3, { store, backend });
        expect(await ran.result({ timeout: 10_000 })).toBe(6);
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(await held.status()).toBe('pending');
        await resumeTask(report.name, { backend });
        expect(await held.result({ timeout: 10_000 })).toBe(3);
      } finally {
        admin.disconnect();
        await worker.close();
        await backend.close();
        await store.close();
        await redis.kill();
      }
    });
  });
});
