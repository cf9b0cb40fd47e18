import { describe, expect, it } from 'vitest';
import { type LocalSlot, ShortTaskBatcher, type ShortTaskBatcherOptions } from '../src/kit';

interface Request {
  id: number;
  task: string;
}
interface Response {
  id: number;
  duration?: number;
}

function slot(): LocalSlot & { released: number } {
  const held = {
    released: 0,
    release() {
      held.released += 1;
    },
  };
  return held;
}

function batcher(overrides: Partial<ShortTaskBatcherOptions<Request, Response>> = {}) {
  const batches: number[][] = [];
  const made = new ShortTaskBatcher<Request, Response>({
    name: 'test',
    workers: 1,
    maxBatch: 4,
    runOne: async (request) => {
      batches.push([request.id]);
      return { id: request.id };
    },
    runBatch: async (requests) => {
      batches.push(requests.map((request) => request.id));
      return requests.map((request) => ({ id: request.id }));
    },
    onBatchFailed: (requests) => requests.map(() => 'fail'),
    ...overrides,
  });
  return { made, batches };
}

describe('ShortTaskBatcher', () => {
  describe('when it learns durations', () => {
    it('should call a task short after 8 quick runs, and never with a tight timeout or maxBatch 1', () => {
      const { made } = batcher();
      for (let run = 0; run < 7; run++) made.record('t', 0.1);
      expect(made.isShort('t', undefined)).toBe(false);
      made.record('t', 0.1);
      expect(made.isShort('t', undefined)).toBe(true);
      expect(made.isShort('t', 500)).toBe(false);
      for (let run = 0; run < 20; run++) made.record('t', 50);
      expect(made.isShort('t', undefined)).toBe(false);
      made.forget('t');
      expect(made.isShort('t', undefined)).toBe(false);
      const single = batcher({ maxBatch: 1 }).made;
      for (let run = 0; run < 8; run++) single.record('t', 0.1);
      expect(single.isShort('t', undefined)).toBe(false);
    });

    it('should refuse a maxBatch that is not an integer ≥ 1', () => {
      expect(() => batcher({ maxBatch: 0 })).toThrow('[au] [test] maxBatch must be an integer ≥ 1, got 0');
    });
  });

  describe('when attempts are sent', () => {
    it('should send them in batches of at most maxBatch, one per free worker, and answer each', async () => {
      const { made, batches } = batcher();
      const slots = Array.from({ length: 6 }, slot);
      const replies = await Promise.all(
        slots.map((held, index) => made.send({ id: index, task: 't' }, held)),
      );
      expect(replies.map((reply) => reply.id)).toEqual([0, 1, 2, 3, 4, 5]);
      expect(batches).toEqual([
        [0, 1, 2, 3],
        [4, 5],
      ]);
      // Up to a batch per worker is claimed ahead: those slots were freed at once.
      expect(slots.map((held) => held.released)).toEqual([1, 1, 1, 1, 1, 1]);
      expect(made.batchedCount).toBe(6);
    });

    it('should keep batches of slower short tasks within a millisecond of estimated work', async () => {
      const { made, batches } = batcher({ maxBatch: 64 });
      for (let run = 0; run < 8; run++) made.record('t', 0.25);
      const slots = Array.from({ length: 10 }, slot);
      const replies = slots.map((held, index) => made.send({ id: index, task: 't' }, held));
      // Two milliseconds per worker are claimed ahead: eight attempts of 0.25 ms, not 64.
      expect(slots.map((held) => held.released)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
      expect((await Promise.all(replies)).map((reply) => reply.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(batches).toEqual([
        [0, 1, 2, 3],
        [4, 5, 6, 7],
        [8, 9],
      ]);
      expect(slots.map((held) => held.released)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    });

    it('should take back an attempt not sent yet', async () => {
      const { made, batches } = batcher();
      const kept = made.send({ id: 1, task: 't' }, slot());
      const withdrawn = made.send({ id: 2, task: 't' }, slot());
      expect(made.withdraw(2, new Error('cancelled'))).toBe(true);
      expect(made.withdraw(2, new Error('again'))).toBe(false);
      await expect(withdrawn).rejects.toThrow('cancelled');
      expect((await kept).id).toBe(1);
      expect(batches).toEqual([[1]]);
    });

    it('should reject, not throw, when the pool refuses at once (closed meanwhile)', async () => {
      const refuse = () => {
        throw new Error('the pool is closed');
      };
      const { made } = batcher({ runOne: refuse, runBatch: refuse });
      await expect(made.send({ id: 1, task: 't' }, slot())).rejects.toThrow('the pool is closed');
    });

    it('should resend alone what a failed batch says to resend', async () => {
      let first = true;
      const { made, batches } = batcher({
        runBatch: async (requests) => {
          batches.push(requests.map((request) => request.id));
          if (first) {
            first = false;
            throw new Error('worker died');
          }
          return requests.map((request) => ({ id: request.id }));
        },
        onBatchFailed: (requests) => requests.map((request) => (request.id === 2 ? 'fail' : 'resend')),
      });
      const results = await Promise.allSettled([1, 2, 3].map((id) => made.send({ id, task: 't' }, slot())));
      expect(results[0]).toEqual({ status: 'fulfilled', value: { id: 1 } });
      expect((results[1] as PromiseRejectedResult).reason).toEqual(new Error('worker died'));
      expect(results[2]).toEqual({ status: 'fulfilled', value: { id: 3 } });
      expect(batches).toEqual([[1, 2, 3], [1], [3]]);
    });
  });
});
