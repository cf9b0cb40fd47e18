import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { asyncCompute, defineTask, InProcessBackend, KeyConflictError, MemoryStore } from '../src/index';
import { sameValue } from '../src/internal/same-value';

describe('idempotency', () => {
  const order = defineTask({
    name: 'order',
    input: z.object({ item: z.string(), quantity: z.number().int().default(1) }),
    run: (input) => input,
  });

  describe('when a keyed launch repeats with the parsed input unchanged', () => {
    it('should join even though the caller left a default out', async () => {
      const store = new MemoryStore();
      const compute = asyncCompute(order, { store, backend: new InProcessBackend() });
      const first = await compute.launch([{ item: 'tea', quantity: 1 }], { key: 'order-1' });
      await first.result();
      const again = await compute.launch([{ item: 'tea' } as never], { key: 'order-1' });
      expect(again.key).toBe('order-1');
      expect((await store.get('order-1'))?.attempt).toBe(1);
    });
  });

  describe('when the key conflicts', () => {
    it('should name the key and the tasks, with a stable code', async () => {
      const store = new MemoryStore();
      const compute = asyncCompute(order, { store, backend: new InProcessBackend() });
      await compute.launch([{ item: 'tea', quantity: 1 }], { key: 'order-2' });
      const error = await compute
        .launch([{ item: 'coffee', quantity: 1 }], { key: 'order-2' })
        .catch((caught) => caught);
      expect(KeyConflictError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({
        name: 'KeyConflictError',
        code: 'AU_KEY_CONFLICT',
        key: 'order-2',
        task: 'order',
      });
      expect(error.message).toMatch(
        /key "order-2" is already used by a computation of "order" with another input/,
      );
    });
  });

  describe('when idempotencyWindow is bad or misplaced', () => {
    it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])(
      'should refuse %s with a TypeError',
      async (window) => {
        const compute = asyncCompute(order, { store: new MemoryStore(), backend: new InProcessBackend() });
        await expect(
          compute.launch([{ item: 'tea', quantity: 1 }], { key: 'k', idempotencyWindow: window }),
        ).rejects.toThrow(/idempotencyWindow must be a number of seconds ≥ 0/);
      },
    );

    it('should refuse it in map, where there is no key', async () => {
      const compute = asyncCompute(order, { store: new MemoryStore(), backend: new InProcessBackend() });
      await expect(compute.map([[{ item: 'tea', quantity: 1 }]], { idempotencyWindow: 1 })).rejects.toThrow(
        /launchMany takes no/,
      );
    });
  });

  describe('sameValue', () => {
    it.each([
      [{ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }, true],
      [{ a: 1, b: undefined }, { a: 1 }, true],
      [{ a: 1 }, { a: '1' }, false],
      [[1, 2], [2, 1], false],
      [{ a: [] }, { a: {} }, false],
      [null, {}, false],
      [new Uint8Array([1, 2]), new Uint8Array([1, 2]), true],
      [new Uint8Array([1, 2]), new Uint8Array([1, 3]), false],
    ])('should compare %j and %j as %s', (left, right, same) => {
      expect(sameValue(left, right)).toBe(same);
    });
  });
});
