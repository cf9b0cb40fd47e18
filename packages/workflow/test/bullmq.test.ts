// Graphs on BullMQ (@au/backend-bullmq) over the real Redis: nodes travel by name to a
// BullMQ worker that loads ./fixtures/tasks.ts, and records live in a RedisStore.
import { randomUUID } from 'node:crypto';
import { BullMQBackend, type BullMQWorker, startBullMQWorker } from '@au/backend-bullmq';
import { RedisStore } from '@au/store-redis';
import { redisUrl, requireService } from '@au/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphFailedError, TaskGraph } from '../src/index';
import { constant, double, explode, sum } from './fixtures/tasks';

const url = redisUrl();
const redisUp = await requireService('redis', url);
const tasksUrl = new URL('./fixtures/tasks.ts', import.meta.url);
const queue = `au-test-workflow-${randomUUID().slice(0, 8)}`;
const prefix = `au-test-workflow-${randomUUID().slice(0, 8)}`;

let store: RedisStore;
let backend: BullMQBackend;
let worker: BullMQWorker;

describe.runIf(redisUp)('TaskGraph on BullMQ', () => {
  beforeAll(async () => {
    store = new RedisStore({ redis: url, prefix });
    backend = new BullMQBackend({ connection: url, queue, tasks: [tasksUrl] });
    worker = await startBullMQWorker({ connection: url, queue, tasks: [tasksUrl], store, concurrency: 20 });
  });

  afterAll(async () => {
    await worker?.close({ timeout: 2000 });
    await backend?.close({ timeout: 2000 });
    await store?.close();
    await removeTestKeys();
  });

  describe('when the graph is a diamond', () => {
    it('should pass the parents results to the child across the queue', async () => {
      const graph = new TaskGraph({ store, backend });
      const top = graph.add(constant, { n: 5 });
      const left = graph.add(double, ([n]) => ({ n }), { dependsOn: [top] });
      const right = graph.add(sum, ([n]) => ({ values: [n, 1] }), { dependsOn: [top] });
      const bottom = graph.add(sum, ([l, r]) => ({ values: [l, r] }), { dependsOn: [left, right] });
      expect((await graph.run()).get(bottom)).toBe(16);
      expect(await graph.handle.status()).toBe('completed');
    });
  });

  describe('when a node fans out to 100 children', () => {
    it('should run every child on the worker and join them', async () => {
      const graph = new TaskGraph({ store, backend });
      const root = graph.add(constant, { n: 2 });
      const children = Array.from({ length: 100 }, (_, index) =>
        graph.add(double, ([n]) => ({ n: n + index }), { id: `c${index}`, dependsOn: [root] }),
      );
      const total = graph.add(sum, (values) => ({ values }), { dependsOn: children });
      expect((await graph.run()).get(total)).toBe(2 * (200 + (99 * 100) / 2));
    }, 30_000);
  });

  describe('when a node fails under the continue policy', () => {
    it('should finish the independent branch and cancel the dependents', async () => {
      const graph = new TaskGraph({ store, backend, failurePolicy: 'continue' });
      const bad = graph.add(explode, { message: 'queue boom' }, { id: 'bad' });
      const child = graph.add(double, ([n]) => ({ n }), { id: 'child', dependsOn: [bad] });
      const independent = graph.add(constant, { n: 7 }, { id: 'independent' });
      const error = await graph.run().catch((caught: unknown) => caught);
      expect(GraphFailedError.isInstance(error)).toBe(true);
      expect((error as GraphFailedError).results[independent.id]).toBe(7);
      const cancelled = await store.get(child.key);
      expect(cancelled?.status).toBe('cancelled');
      // The reason is a field of the stored error: RedisStore keeps it through its JSON.
      expect(cancelled?.error).toMatchObject({ key: child.key, reason: 'node "bad" it depends on failed' });
      expect(await store.get(bad.key).then((record) => record?.error?.message)).toBe('queue boom');
    });
  });
});

async function removeTestKeys(): Promise<void> {
  const redis = new Redis(url);
  try {
    const bullQueue = new Queue(queue, { connection: redis });
    await bullQueue.obliterate({ force: true }).catch(() => undefined);
    await bullQueue.close();
    for (const pattern of [`bull:${queue}:*`, `{${prefix}}*`]) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(
          cursor,
          'MATCH',
          pattern.replace(/[[\]]/g, '\\$&'),
          'COUNT',
          1000,
        );
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}
