import { randomUUID } from 'node:crypto';
import { asyncCompute, defineTask, KeyExistsError } from '@au/core';
import { RedisStore, RedisUnavailableError } from '@au/store-redis';
import { conformanceTasks, conformanceTasksUrl, preparedLaunch } from '@au/testing';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { BullMQBackend, QueueUnavailableError } from '../src/index';
import { redisUp, redisUrl, TestResources } from './helpers';

const resources = new TestResources();
afterAll(() => (redisUp ? resources.cleanup() : undefined));

/** The record and invocation core prepares for a launch of the conformance `echo` task. */
const echoLaunch = (input: string, key = `tl-${randomUUID()}`) =>
  preparedLaunch(conformanceTasks.echo, input, key);

/** A store on the shared Redis and a backend whose embedded worker writes it. */
function setUp(options: { keepJobs?: boolean; storeUrl?: string } = {}) {
  const store = new RedisStore({ redis: options.storeUrl ?? redisUrl, prefix: resources.prefix('tl') });
  const backend = new BullMQBackend({
    connection: redisUrl,
    queue: resources.queue('tl'),
    tasks: [conformanceTasksUrl],
    worker: { store, concurrency: 4 },
    ...(options.keepJobs ? { jobOptions: { removeOnComplete: false, removeOnFail: false } } : {}),
  });
  const close = async () => {
    await backend.close({ timeout: 2000 });
    await store.close();
  };
  return { store, backend, close };
}

/** Resolves once `condition` holds; fails the test after 10 s. */
async function until(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('[test] the condition did not hold within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The queue's keys that a refused launch might leave: conflict flags and held job keys. */
async function leftovers(queue: string): Promise<string[]> {
  const redis = new Redis(redisUrl);
  try {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `bull:${queue}:*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        if (key.includes(':au:conflict:')) found.push(key);
        else if ((await redis.type(key)) === 'hash' && (await redis.hexists(key, 'auHold')) === 1)
          found.push(key);
      }
    } while (cursor !== '0');
    return found;
  } finally {
    redis.disconnect();
  }
}

describe.runIf(redisUp)('backend-bullmq: records and jobs in one transaction (createAndLaunch)', () => {
  describe('when the store is a RedisStore on the queue’s Redis', () => {
    it('should create the records in the launch transaction, not apart from it', async () => {
      const { store, backend, close } = setUp();
      const calls = { createManyIn: 0, create: 0, createMany: 0 };
      const createManyIn = store.createManyIn.bind(store);
      store.createManyIn = (...args) => {
        calls.createManyIn += 1;
        return createManyIn(...args);
      };
      const create = store.create.bind(store);
      store.create = (record) => {
        calls.create += 1;
        return create(record);
      };
      const createMany = store.createMany.bind(store);
      store.createMany = (records) => {
        calls.createMany += 1;
        return createMany(records);
      };
      try {
        const echo = asyncCompute(conformanceTasks.echo, { store, backend });
        const one = await echo('one');
        const many = await echo.map([['a'], ['b'], ['c']]);
        expect(await one.result({ timeout: 10_000 })).toBe('one');
        expect(await Promise.all(many.map((handle) => handle.result({ timeout: 10_000 })))).toEqual([
          'a',
          'b',
          'c',
        ]);
        expect(calls).toEqual({ createManyIn: 2, create: 0, createMany: 0 });
      } finally {
        await close();
      }
    });

    it('should add no job and leave no placeholder when a key is taken by a finished job', async () => {
      const { store, backend, close } = setUp({ keepJobs: true });
      try {
        const holder = await asyncCompute(conformanceTasks.echo, { store, backend })('holder');
        expect(await holder.result({ timeout: 10_000 })).toBe('holder');
        // The result is out before BullMQ moves the job to completed: wait until it has.
        await until(async () => (await backend.queue.getJobState(holder.key)) === 'completed');
        const fresh = echoLaunch('fresh');
        const clash = echoLaunch('clash', holder.key);
        const outcome = await backend
          .createAndLaunch(store, [fresh.record, clash.record], [fresh.invocation, clash.invocation])
          .catch((error: unknown) => error);
        expect(KeyExistsError.isInstance(outcome)).toBe(true);
        expect(await backend.queue.getJob(fresh.invocation.key)).toBeUndefined();
        // The holder's kept job is as it was: completed, with its own data.
        const kept = await backend.queue.getJob(holder.key);
        expect(await kept?.getState()).toBe('completed');
        expect(await store.get(fresh.record.key)).toBeUndefined();
        expect(await store.get(holder.key)).toMatchObject({ status: 'completed', value: 'holder' });
        expect(await leftovers(backend.queueName)).toEqual([]);
      } finally {
        await close();
      }
    });

    it('should add no job when the taken key has no job any more (removed on completion)', async () => {
      const { store, backend, close } = setUp();
      try {
        const holder = await asyncCompute(conformanceTasks.echo, { store, backend })('holder');
        expect(await holder.result({ timeout: 10_000 })).toBe('holder');
        // The result is out before BullMQ removes the finished job: wait until it has.
        await until(async () => (await backend.queue.getJob(holder.key)) === undefined);
        const fresh = echoLaunch('fresh');
        const clash = echoLaunch('clash', holder.key);
        await expect(
          backend.createAndLaunch(store, [fresh.record, clash.record], [fresh.invocation, clash.invocation]),
        ).rejects.toSatisfy(KeyExistsError.isInstance);
        expect(await backend.queue.getJob(fresh.invocation.key)).toBeUndefined();
        expect(await backend.queue.getJob(holder.key)).toBeUndefined();
        expect(await backend.queue.getJobCounts('wait', 'prioritized', 'active', 'delayed')).toEqual({
          wait: 0,
          prioritized: 0,
          active: 0,
          delayed: 0,
        });
        expect(await leftovers(backend.queueName)).toEqual([]);
      } finally {
        await close();
      }
    });
  });

  describe('when the task has a maxQueued', () => {
    it('should put the job ids in the task’s set inside the transaction, and none of a refused batch', async () => {
      const { store, backend, close } = setUp();
      // The conformance echo under its own name (the worker runs it by name), bounded.
      const bounded = defineTask({ ...conformanceTasks.echo, maxQueued: 10 });
      let transactions = 0;
      const createManyIn = store.createManyIn.bind(store);
      store.createManyIn = (...args) => {
        transactions += 1;
        return createManyIn(...args);
      };
      const inSet = (key: string) =>
        store.redis.sismember(`bull:${backend.queueName}:au:queued:${bounded.name}`, key);
      try {
        const compute = asyncCompute(bounded, { store, backend });
        // Delayed: it waits in the queue, counted against the task's maxQueued.
        const waiting = await compute.launch(['waiting'], { delay: 60_000 });
        expect(transactions).toBe(1);
        expect(await inSet(waiting.key)).toBe(1);
        expect(await backend.queued(bounded.name)).toBe(1);
        const ran = await compute('ran');
        expect(await ran.result({ timeout: 10_000 })).toBe('ran');
        expect(transactions).toBe(2);
        // Taken out when it started: only the delayed one still counts.
        expect(await backend.queued(bounded.name)).toBe(1);
        const fresh = preparedLaunch(bounded, 'fresh', `tl-${randomUUID()}`);
        const clash = preparedLaunch(bounded, 'clash', waiting.key);
        await expect(
          backend.createAndLaunch(store, [fresh.record, clash.record], [fresh.invocation, clash.invocation]),
        ).rejects.toSatisfy(KeyExistsError.isInstance);
        expect(await inSet(fresh.invocation.key)).toBe(0);
        expect(await backend.queued(bounded.name)).toBe(1);
        expect(await leftovers(backend.queueName)).toEqual([]);
        await waiting.cancel();
      } finally {
        await close();
      }
    });
  });

  describe('when it cannot take the launch', () => {
    it('should answer false for a store on another database of the server, having written nothing', async () => {
      const other = new URL(redisUrl);
      other.pathname = '/1';
      const { store, backend, close } = setUp({ storeUrl: other.toString() });
      try {
        const launch = echoLaunch('elsewhere');
        expect(await backend.createAndLaunch(store, [launch.record], [launch.invocation])).toBe(false);
        expect(await store.get(launch.record.key)).toBeUndefined();
        expect(await backend.queue.getJob(launch.invocation.key)).toBeUndefined();
        // Through core, the launch then goes the two-step way and runs.
        const handle = await asyncCompute(conformanceTasks.echo, { store, backend })('two steps');
        expect(await handle.result({ timeout: 10_000 })).toBe('two steps');
      } finally {
        await close();
      }
    });

    it('should answer false for a relaunch that replaces a finished job, and for a batch too large for one transaction', async () => {
      const { store, backend, close } = setUp();
      try {
        const replacing = echoLaunch('again');
        replacing.invocation.replaces = true;
        expect(await backend.createAndLaunch(store, [replacing.record], [replacing.invocation])).toBe(false);
        const many = Array.from({ length: 501 }, (_, index) => echoLaunch(String(index)));
        expect(
          await backend.createAndLaunch(
            store,
            many.map((launch) => launch.record),
            many.map((launch) => launch.invocation),
          ),
        ).toBe(false);
        expect(await store.get(replacing.record.key)).toBeUndefined();
        expect(await store.get(many[0]!.record.key)).toBeUndefined();
      } finally {
        await close();
      }
    });

    it('should refuse with QueueUnavailableError when the queue’s Redis is down, leaving nothing pending', async () => {
      const store = new RedisStore({ redis: redisUrl, prefix: resources.prefix('tl-down') });
      // Nothing listens on port 1: every connection is refused.
      const backend = new BullMQBackend({
        connection: 'redis://127.0.0.1:1',
        queue: 'au-test-down',
        launchTimeout: 500,
      });
      try {
        const launch = echoLaunch('down');
        await expect(backend.createAndLaunch(store, [launch.record], [launch.invocation])).rejects.toSatisfy(
          QueueUnavailableError.isInstance,
        );
        const echo = asyncCompute(conformanceTasks.echo, { store, backend });
        await expect(echo('down')).rejects.toSatisfy(QueueUnavailableError.isInstance);
        expect((await store.list({ status: 'pending' })).records).toEqual([]);
      } finally {
        await backend.close({ timeout: 0 });
        await store.close();
      }
    });
  });
});

describe.runIf(redisUp)('backend-bullmq: a launch whose store’s Redis is down', () => {
  it('should fail with the store’s own error, not as the queue’s', async () => {
    const store = new RedisStore({ redis: 'redis://127.0.0.1:1', prefix: resources.prefix('tl-store-down') });
    const backend = new BullMQBackend({ connection: redisUrl, queue: resources.queue('tl-store-down') });
    try {
      const echo = asyncCompute(conformanceTasks.echo, { store, backend });
      const error = await echo('lost').catch((caught: unknown) => caught);
      expect(RedisUnavailableError.isInstance(error), String(error)).toBe(true);
    } finally {
      await backend.close({ timeout: 0 });
      await store.close();
    }
  }, 30_000);
});
