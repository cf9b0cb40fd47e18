import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  asyncCompute,
  defineTask,
  InProcessBackend,
  MemoryStore,
  StoreMismatchError,
  submitTask,
  ValidationError,
} from '../src/index';

describe('inputs', () => {
  const order = defineTask({
    name: 'order',
    input: z.object({
      item: z.string().transform((item) => item.toUpperCase()),
      quantity: z.number().int().default(1),
    }),
    run: (input) => input,
  });

  describe('when the schema has defaults, transforms and the body unknown keys', () => {
    it('should hand the task and store the parsed output, once', async () => {
      const store = new MemoryStore();
      const backend = new InProcessBackend();
      const handle = await submitTask(order, { item: 'tea', junk: 'x'.repeat(900_000) } as never, {
        store,
        backend,
      });
      // Transformed once (a second parse would see 'TEA' and still give 'TEA', so check the default too).
      expect(await handle.result({ timeout: 2000 })).toEqual({ item: 'TEA', quantity: 1 });
      const record = await store.get(handle.key);
      expect(record?.args).toEqual({ item: 'TEA', quantity: 1 });
      expect(JSON.stringify(record).length).toBeLessThan(1000);
      await backend.close();
    });
  });

  describe('when a transform is not idempotent', () => {
    it('should apply it once', async () => {
      const store = new MemoryStore();
      const backend = new InProcessBackend();
      const exclaim = defineTask({
        name: 'exclaim',
        input: z.string().transform((text) => `${text}!`),
        run: (text) => text,
      });
      const handle = await submitTask(exclaim, 'hi', { store, backend });
      expect(await handle.result({ timeout: 2000 })).toBe('hi!');
      await backend.close();
    });
  });

  describe('when the codec cannot encode the input', () => {
    it('should reject a ValidationError and write nothing', async () => {
      const store = new MemoryStore();
      const backend = new InProcessBackend();
      const anything = defineTask({ name: 'anything', run: (value: unknown) => value });
      const error = await submitTask(anything, { big: 10n }, { store, backend }).catch(
        (caught: unknown) => caught,
      );
      expect(ValidationError.isInstance(error)).toBe(true);
      expect((error as Error).message).toContain('cannot be encoded');
      expect((await store.list()).records).toHaveLength(0);
      await backend.close();
    });
  });
});

describe('options', () => {
  const noop = defineTask({ name: 'noop', run: () => 'ok' });

  describe('when an option is unknown', () => {
    it('should name it in a TypeError, with the closest known name', () => {
      expect(() => defineTask({ name: 'x', run: () => 1, cron: '* * * * *' } as never)).toThrow(
        /defineTask\("x"\): unknown option "cron"/,
      );
      expect(() => asyncCompute(noop, { maxQueued: 10 } as never)).toThrow(
        /asyncCompute: unknown option "maxQueued"/,
      );
      expect(() => asyncCompute(noop, { timout: 10 } as never)).toThrow(/did you mean "timeout"/);
      expect(() => new InProcessBackend({ concurency: 2 } as never)).toThrow(
        /InProcessBackend: unknown option "concurency" \(did you mean "concurrency"\?\)/,
      );
      expect(() => new MemoryStore({ ttl: 5 } as never)).toThrow(/MemoryStore: unknown option "ttl"/);
      expect(() =>
        defineTask({ name: 'y', run: () => 1, retry: { attempts: 2, repeat: 3 } as never }),
      ).toThrow(/retry: unknown option "repeat"/);
    });

    it('should refuse an unknown launch option before writing anything', async () => {
      const store = new MemoryStore();
      const backend = new InProcessBackend();
      const compute = asyncCompute(noop, { store, backend });
      await expect(compute.launch([undefined], { repeat: { every: 1000 } } as never)).rejects.toThrow(
        /launch of "noop": unknown option "repeat"/,
      );
      await expect(
        submitTask(noop, undefined, { store, backend, cron: '* * * * *' } as never),
      ).rejects.toThrow(/unknown option "cron"/);
      expect((await store.list()).records).toHaveLength(0);
      await backend.close();
    });
  });

  describe('when launch is called from JavaScript without an argument list', () => {
    it('should throw a TypeError instead of running the task with null', async () => {
      const store = new MemoryStore();
      const backend = new InProcessBackend();
      const factorial = asyncCompute(defineTask({ name: 'factorial', run: ({ n }: { n: number }) => n }), {
        store,
        backend,
      });
      await expect(factorial.launch({ n: 4 } as never)).rejects.toThrow(
        /launch takes the arguments as an array/,
      );
      await expect(factorial.map([{ n: 4 }] as never)).rejects.toThrow(/map takes a list of argument arrays/);
      expect((await store.list()).records).toHaveLength(0);
      await backend.close();
    });
  });
});

describe('store binding', () => {
  describe('when one backend is used with two stores', () => {
    it('should reject the second launch with StoreMismatchError and write nothing there', async () => {
      const first = new MemoryStore();
      const second = new MemoryStore();
      const backend = new InProcessBackend();
      const noop = defineTask({ name: 'noop-bound', run: () => 'ok' });
      const handle = await submitTask(noop, undefined, { store: first, backend });
      expect(await handle.result({ timeout: 2000 })).toBe('ok');
      const error = await submitTask(noop, undefined, { store: second, backend }).catch(
        (caught: unknown) => caught,
      );
      expect(StoreMismatchError.isInstance(error)).toBe(true);
      expect((await second.list()).records).toHaveLength(0);
      await backend.close();
    });
  });

  describe('when the backend is given its store', () => {
    it('should refuse launches through any other store', async () => {
      const own = new MemoryStore();
      const backend = new InProcessBackend({ store: own });
      const noop = defineTask({ name: 'noop-own', run: () => 'ok' });
      await expect(submitTask(noop, undefined, { store: new MemoryStore(), backend })).rejects.toThrow(
        /bound to store/,
      );
      const handle = await submitTask(noop, undefined, { store: own, backend });
      expect(await handle.result({ timeout: 2000 })).toBe('ok');
      await backend.close();
    });
  });
});
