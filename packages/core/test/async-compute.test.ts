import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  asyncCompute,
  CancelledError,
  ComputationFailedError,
  defineTask,
  InProcessBackend,
  MemoryStore,
  TimeoutError,
  ValidationError,
} from '../src/index';

function setup() {
  return { store: new MemoryStore(), backend: new InProcessBackend() };
}

describe('asyncCompute', () => {
  describe('when given an inline function', () => {
    it('should return a handle whose result is the function value', async () => {
      const double = asyncCompute((x: number) => x * 2, setup());
      const handle = await double(21);
      expect(await handle.result()).toBe(42);
      expect(await handle.status()).toBe('completed');
      expect(await handle.isReady()).toBe(true);
    });

    it('should reject with ComputationFailedError carrying the remote message', async () => {
      const boom = asyncCompute(() => {
        throw new RangeError('too big');
      }, setup());
      const handle = await boom();
      const error = await handle.result().catch((caught: unknown) => caught);
      expect(ComputationFailedError.isInstance(error)).toBe(true);
      expect((error as ComputationFailedError).remoteName).toBe('RangeError');
      expect((error as ComputationFailedError).remoteMessage).toBe('too big');
      expect(await handle.status()).toBe('failed');
    });
  });

  describe('when given a task', () => {
    const slow = defineTask({
      name: 'slow',
      input: z.object({ ms: z.number().int().min(0) }),
      run: ({ ms }, ctx) =>
        new Promise<string>((resolve, reject) => {
          ctx.progress({ started: true });
          const timer = setTimeout(() => resolve('done'), ms);
          ctx.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(ctx.signal.reason);
          });
        }),
    });

    it('should refuse invalid input before anything is written', async () => {
      const settings = setup();
      const compute = asyncCompute(slow, settings);
      await expect(compute({ ms: -1 })).rejects.toSatisfy(ValidationError.isInstance);
      expect(settings.store.size).toBe(0);
    });

    it('should cancel a running computation and keep it cancelled', async () => {
      const compute = asyncCompute(slow, setup());
      const handle = await compute({ ms: 5_000 });
      await expect.poll(() => handle.status()).toBe('running');
      expect(await handle.cancel('no longer needed')).toBe(true);
      await expect(handle.result()).rejects.toSatisfy(CancelledError.isInstance);
      expect(await handle.status()).toBe('cancelled');
      expect(await handle.cancel()).toBe(false);
    });

    it('should time out a wait without stopping the computation', async () => {
      const compute = asyncCompute(slow, setup());
      const handle = await compute({ ms: 300 });
      await expect(handle.result({ timeout: 20 })).rejects.toSatisfy(TimeoutError.isInstance);
      expect(await handle.result({ timeout: 2_000 })).toBe('done');
    });

    it('should stream status and progress events until the end', async () => {
      const compute = asyncCompute(slow, setup());
      const handle = await compute({ ms: 150 });
      const seen: string[] = [];
      for await (const event of handle.events()) {
        seen.push(event.type === 'status' ? event.status : 'progress');
      }
      expect(seen[0]).toMatch(/pending|running/);
      expect(seen).toContain('progress');
      expect(seen.at(-1)).toBe('completed');
    });
  });
});

describe('asyncCompute.map', () => {
  describe('when one record cannot be created', () => {
    it('should reject and leave none of the batch pending', async () => {
      const store = new MemoryStore();
      const backend = new InProcessBackend();
      // One record at a time (a store without createMany).
      (store as { createMany?: unknown }).createMany = undefined;
      let creates = 0;
      const original = store.create.bind(store);
      store.create = async (record) => {
        creates += 1;
        if (creates === 3) throw new Error('disk full');
        return original(record);
      };
      const compute = asyncCompute((x: number) => x, { store, backend });
      await expect(compute.map([[1], [2], [3], [4]])).rejects.toThrow('disk full');
      const { records } = await store.list();
      expect(records.length).toBeGreaterThan(0);
      expect(records.every((record) => record.status === 'failed')).toBe(true);
    });
  });

  describe('when a createMany reply is lost after the records were written', () => {
    it('should reject and mark those records failed too', async () => {
      const store = new MemoryStore();
      const backend = new InProcessBackend();
      const original = store.createMany.bind(store);
      store.createMany = async (records) => {
        await original(records);
        throw new Error('reply lost');
      };
      const compute = asyncCompute((x: number) => x, { store, backend });
      await expect(compute.map([[1], [2], [3]])).rejects.toThrow('reply lost');
      const { records } = await store.list();
      expect(records).toHaveLength(3);
      expect(
        records.every((record) => record.status === 'failed' && record.error?.message === 'reply lost'),
      ).toBe(true);
    });
  });

  describe('when a createMany chunk fails', () => {
    it('should reject and mark the chunks already created failed', async () => {
      const store = new MemoryStore();
      const backend = new InProcessBackend();
      let calls = 0;
      const original = store.createMany.bind(store);
      store.createMany = async (records) => {
        calls += 1;
        if (calls === 2) throw new Error('disk full');
        return original(records);
      };
      const compute = asyncCompute((x: number) => x, { store, backend });
      const inputs = Array.from({ length: 1200 }, (_, n) => [n] as [number]);
      await expect(compute.map(inputs)).rejects.toThrow('disk full');
      const { records } = await store.list({ limit: 1000 });
      expect(records.length).toBeGreaterThanOrEqual(500);
      expect(records.every((record) => record.status === 'failed')).toBe(true);
      expect(backend.runningCount + backend.queuedCount).toBe(0);
    });
  });
});
