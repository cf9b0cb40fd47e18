import { describe, expect, it } from 'vitest';
import { ScriptBatch } from '../src/script-batch';

/** A batch whose script call echoes its items, recording the size of each call. */
function echoBatch(maxSize: number, weight?: { of: (item: string) => number; max: number }) {
  const calls: string[][] = [];
  const batch = new ScriptBatch<string, string>(
    async (items) => {
      calls.push([...items]);
      return items.map((item) => (item === 'bad' ? new Error('corrupt record') : `done ${item}`));
    },
    maxSize,
    weight,
  );
  return { batch, calls };
}

describe('script-batch', () => {
  describe('when calls are made in one tick', () => {
    it('should send them as one script call and give each its own answer', async () => {
      const { batch, calls } = echoBatch(10);
      const results = await Promise.allSettled(['a', 'bad', 'b'].map((item) => batch.add(item)));
      expect(calls).toEqual([['a', 'bad', 'b']]);
      expect(results).toMatchObject([
        { status: 'fulfilled', value: 'done a' },
        { status: 'rejected', reason: { message: 'corrupt record' } },
        { status: 'fulfilled', value: 'done b' },
      ]);
    });

    it('should split a burst at the most items of one call', async () => {
      const { batch, calls } = echoBatch(2);
      await Promise.all(['a', 'b', 'c', 'd', 'e'].map((item) => batch.add(item)));
      expect(calls).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    });

    it('should not gather large items into one call, and send one heavier than the limit alone', async () => {
      const { batch, calls } = echoBatch(10, { of: (item) => item.length, max: 5 });
      await Promise.all(['aa', 'bb', 'cc', 'dddddddd', 'e'].map((item) => batch.add(item)));
      expect(calls).toEqual([['aa', 'bb'], ['cc'], ['dddddddd'], ['e']]);
    });
  });

  describe('when the script call fails (the connection is gone)', () => {
    it('should fail every call of the batch with that error', async () => {
      const batch = new ScriptBatch<string, string>(async () => {
        throw new Error('Connection is closed.');
      }, 10);
      const results = await Promise.allSettled(['a', 'b'].map((item) => batch.add(item)));
      expect(results).toMatchObject([
        { status: 'rejected', reason: { message: 'Connection is closed.' } },
        { status: 'rejected', reason: { message: 'Connection is closed.' } },
      ]);
    });
  });

  describe('when calls are made in different ticks', () => {
    it('should send each tick in its own script call', async () => {
      const { batch, calls } = echoBatch(10);
      await batch.add('a');
      await batch.add('b');
      expect(calls).toEqual([['a'], ['b']]);
    });
  });
});
