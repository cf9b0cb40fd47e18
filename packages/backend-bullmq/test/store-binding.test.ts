import {
  asyncCompute,
  type ComputationStore,
  defineTask,
  MemoryStore,
  StoreMismatchError,
  submitTask,
} from '@au/core';
import { RedisStore } from '@au/store-redis';
import { conformanceTasks, conformanceTasksUrl } from '@au/testing';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BullMQBackend, type BullMQWorker, startBullMQWorker } from '../src/index';
import { RecordingLogger, redisUp, redisUrl, TestResources } from './helpers';

const resources = new TestResources();
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});
afterAll(() => (redisUp ? resources.cleanup() : undefined));

function redisStore(prefix: string): RedisStore {
  const store = new RedisStore({ redis: redisUrl, prefix });
  closers.push(() => store.close());
  return store;
}

function backendOf(options: ConstructorParameters<typeof BullMQBackend>[0]): BullMQBackend {
  const backend = new BullMQBackend({ connection: redisUrl, ...options });
  closers.push(() => backend.close());
  return backend;
}

async function workerOf(
  options: Partial<Parameters<typeof startBullMQWorker>[0]> & {
    queue: string;
    store: RedisStore | MemoryStore;
  },
): Promise<BullMQWorker> {
  const worker = await startBullMQWorker({ connection: redisUrl, tasks: [conformanceTasksUrl], ...options });
  closers.push(() => worker.close({ timeout: 1000 }));
  return worker;
}

describe.runIf(redisUp)('backend-bullmq', () => {
  describe('when producers and workers of one queue are given different stores', () => {
    it('should record the first store under the queue and refuse a worker over another store', async () => {
      const queue = resources.queue('bind');
      const store = redisStore(resources.prefix('bind-a'));
      const other = redisStore(resources.prefix('bind-b'));
      await workerOf({ queue, store });
      const admin = new Redis(redisUrl);
      closers.push(async () => admin.disconnect());
      expect(await admin.get(`bull:${queue}:au:store`)).toBe(store.id);

      const error = await workerOf({ queue, store: other }).catch((caught: unknown) => caught);
      expect(StoreMismatchError.isInstance(error), String(error)).toBe(true);
      expect((error as StoreMismatchError).bound).toBe(store.id);
      expect((error as StoreMismatchError).given).toBe(other.id);
      expect((error as Error).message).toContain(`queue "${queue}"`);
      // Another object over the same records is the same store.
      await workerOf({ queue, store: redisStore(store.keys.base) });
    });

    it('should let bind() reject a store the queue is not bound to, and accept the one it is', async () => {
      const queue = resources.queue('bind');
      const prefix = resources.prefix('bind-a');
      const store = redisStore(prefix);
      await workerOf({ queue, store });
      const backend = backendOf({ queue });
      const other = redisStore(resources.prefix('bind-b'));
      await expect(backend.bind(other)).rejects.toSatisfy(StoreMismatchError.isInstance);
      // A refused bind leaves the backend unbound: the right store still binds.
      const same = redisStore(prefix);
      await backend.bind(same);
      await backend.bind(store);
      const handle = await submitTask(conformanceTasks.add, { a: 2, b: 3 }, { store: same, backend });
      expect(await handle.result({ timeout: 10_000 })).toBe(5);
    });

    it('should record the store at the first bind, so that a worker over another store is refused', async () => {
      const queue = resources.queue('bind');
      const store = redisStore(resources.prefix('bind-a'));
      await backendOf({ queue }).bind(store);
      const error = await workerOf({ queue, store: redisStore(resources.prefix('bind-b')) }).catch(
        (caught: unknown) => caught,
      );
      expect(StoreMismatchError.isInstance(error), String(error)).toBe(true);
    });

    it('should refuse a second store once bound, by identity when the stores have no id', async () => {
      const backend = backendOf({ queue: resources.queue('bind') });
      const memory = new MemoryStore();
      await backend.bind(memory);
      await backend.bind(memory);
      await expect(backend.bind(new MemoryStore())).rejects.toSatisfy(StoreMismatchError.isInstance);
      await expect(backend.bind(redisStore(resources.prefix('bind')))).rejects.toSatisfy(
        StoreMismatchError.isInstance,
      );
    });
  });

  describe('when an option is unknown', () => {
    it('should name it in a TypeError from the backend, its embedded worker and startBullMQWorker', async () => {
      expect(() => new BullMQBackend({ connection: redisUrl, concurrency: 5 } as never)).toThrowError(
        /BullMQBackend: unknown option "concurrency"/,
      );
      expect(
        () => new BullMQBackend({ connection: redisUrl, worker: { concurency: 5 } } as never),
      ).toThrowError(/BullMQBackend worker: unknown option "concurency" \(did you mean "concurrency"\?\)/);
      await expect(
        startBullMQWorker({
          connection: redisUrl,
          tasks: [conformanceTasksUrl],
          store: new MemoryStore(),
          repeat: { every: 1000 },
        } as never),
      ).rejects.toThrowError(/startBullMQWorker: unknown option "repeat"/);
    });
  });

  describe('when a store has no id', () => {
    it('should skip the check across processes and say so at debug level', async () => {
      const queue = resources.queue('no-id');
      const store = redisStore(resources.prefix('bound'));
      await workerOf({ queue, store });
      const logger = new RecordingLogger();
      const memory = new MemoryStore();
      expect((memory as ComputationStore).id).toBeUndefined();
      await workerOf({ queue, store: memory, logger });
      expect(logger.find('debug', /has no id/)).toHaveLength(1);
    });
  });

  describe('when the backend runs an embedded worker', () => {
    it('should bind the backend to the worker store and refuse another', async () => {
      const queue = resources.queue('embedded');
      const store = redisStore(resources.prefix('embedded'));
      const backend = backendOf({ queue, tasks: [conformanceTasksUrl], worker: { store } });
      await backend.bind(store);
      await expect(backend.bind(redisStore(resources.prefix('other')))).rejects.toSatisfy(
        StoreMismatchError.isInstance,
      );
    });

    it('should start a worker without a store of its own on the bound store', async () => {
      const queue = resources.queue('embedded');
      const store = redisStore(resources.prefix('embedded'));
      const backend = backendOf({ queue, tasks: [conformanceTasksUrl], worker: { concurrency: 2 } });
      expect(backend.worker).toBeUndefined();
      await expect(
        backend.launch({
          key: 'unbound',
          task: conformanceTasks.add.name,
          args: {},
          priority: 0,
          retry: { attempts: 1 },
        }),
      ).rejects.toThrow(/embedded worker .* has no store yet/);
      // submitTask binds the backend to its store first (core does), which starts the worker on it.
      const handle = await submitTask(conformanceTasks.add, { a: 20, b: 22 }, { store, backend });
      expect(backend.worker).toBeDefined();
      expect(await handle.result({ timeout: 10_000 })).toBe(42);
      await expect(backend.bind(redisStore(resources.prefix('other')))).rejects.toSatisfy(
        StoreMismatchError.isInstance,
      );
    });

    it('should run a task registered by core without task modules, with its launch middleware and retry function', async () => {
      const queue = resources.queue('registered');
      const store = redisStore(resources.prefix('registered'));
      const backend = backendOf({ queue, worker: { concurrency: 2 } });
      let calls = 0;
      const flaky = defineTask({
        name: `registered.flaky.${queue}`,
        input: z.object({ n: z.number() }),
        retry: { attempts: 3, delay: 10, retryOn: (error) => (error as Error).message === 'again' },
        run: ({ n }) => {
          calls += 1;
          if (calls < 2) throw new Error('again');
          return n * 2;
        },
      });
      const seen: string[] = [];
      const compute = asyncCompute(flaky, {
        store,
        backend,
        middleware: [
          {
            name: 'seen',
            run: async (_context, next) => {
              seen.push('run');
              return next();
            },
          },
        ],
      });
      const handle = await compute.launch([{ n: 21 }]);
      expect(await handle.result({ timeout: 10_000 })).toBe(42);
      expect(calls).toBe(2);
      expect(seen).toEqual(['run', 'run']);
    });
  });
});
