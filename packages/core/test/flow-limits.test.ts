import { describe, expect, it } from 'vitest';
import { defineTask, InProcessBackend, MemoryStore, RoutingBackend, submitTask } from '../src/index';

const run = (input: { user: string }) => input.user;

describe('flow limits (concurrency, rateLimit)', () => {
  describe('when defineTask is given a limit that cannot work', () => {
    it.each([
      [{ concurrency: { limit: 0 } }, /`concurrency.limit` must be a whole number ≥ 1 .*got 0/],
      [{ concurrency: { limit: 1.5 } }, /`concurrency.limit` must be a whole number ≥ 1 .*got 1.5/],
      [{ concurrency: { limit: 2, key: 'user' } }, /`concurrency.key` must be a function of the input/],
      [{ concurrency: { limit: 2, keys: () => 'x' } }, /unknown `concurrency` option "keys"/],
      [{ concurrency: 3 }, /`concurrency` must be \{ limit, key\? \}, got 3/],
      [{ rateLimit: { limit: 0, interval: 1000 } }, /`rateLimit.limit` must be a whole number ≥ 1 .*got 0/],
      [{ rateLimit: { limit: 3 } }, /`rateLimit.interval` must be a whole number ≥ 1 \(ms\), got undefined/],
      [{ rateLimit: { limit: 3, interval: 1000, key: 7 } }, /`rateLimit.key` must be a function/],
    ])('should throw a TypeError naming the option for %j', (options, message) => {
      const define = () => defineTask({ name: 'limited', run, ...(options as object) });
      expect(define).toThrow(TypeError);
      expect(define).toThrow(message);
      expect(define).toThrow(/\[au\] defineTask\("limited"\)/);
    });
  });

  describe('when a key function fails at launch', () => {
    it.each([
      [
        'throws',
        () => {
          throw new Error('no user');
        },
        /`concurrency.key` threw: no user/,
      ],
      [
        'returns an empty string',
        () => '',
        /`concurrency.key` must return a string of 1 to 200 characters, got ""/,
      ],
      ['returns a number', () => 42 as unknown as string, /must return a string .*got 42/],
    ])('should reject the launch with a TypeError and write nothing when it %s', async (_, key, message) => {
      const store = new MemoryStore();
      const backend = new InProcessBackend();
      const task = defineTask({ name: 'keyed', concurrency: { limit: 1, key }, run });
      const launch = submitTask(task, { user: 'u1' }, { store, backend, key: 'k-1' });
      await expect(launch).rejects.toThrow(TypeError);
      await expect(submitTask(task, { user: 'u1' }, { store, backend, key: 'k-1' })).rejects.toThrow(message);
      expect(await store.get('k-1')).toBeUndefined();
      expect(backend.queuedCount + backend.runningCount).toBe(0);
      await backend.close();
    });

    it('should refuse a rate-limit key function that throws the same way', async () => {
      const store = new MemoryStore();
      const backend = new InProcessBackend();
      const task = defineTask({
        name: 'rated',
        rateLimit: {
          limit: 1,
          interval: 1000,
          key: () => {
            throw new Error('no tenant');
          },
        },
        run,
      });
      await expect(submitTask(task, { user: 'u1' }, { store, backend, key: 'k-2' })).rejects.toThrow(
        /\[au\] launch of "rated": `rateLimit.key` threw: no tenant/,
      );
      expect(await store.get('k-2')).toBeUndefined();
      await backend.close();
    });
  });

  describe('when a launch has limits', () => {
    it("should keep its groups' keys in the record's meta", async () => {
      const store = new MemoryStore();
      const backend = new InProcessBackend();
      const task = defineTask({
        name: 'grouped',
        concurrency: { limit: 1, key: (input: { user: string }) => input.user },
        rateLimit: { limit: 5, interval: 1000 },
        run,
      });
      const handle = await submitTask(task, { user: 'ann' }, { store, backend });
      expect(await handle.result({ timeout: 5000 })).toBe('ann');
      expect((await handle.record()).meta).toEqual({
        concurrencyKey: 'grouped:ann',
        rateLimitKey: 'grouped',
      });
      await backend.close();
    });
  });
});

describe('RoutingBackend pause', () => {
  describe('when every routed backend can pause', () => {
    it('should pause and resume a task on all of them and merge what they report', async () => {
      const store = new MemoryStore();
      const cpu = new InProcessBackend();
      const io = new InProcessBackend();
      const routing = new RoutingBackend({ routes: { cpu }, default: io });
      const crunch = defineTask({ name: 'crunch', resources: 'cpu', run: (n: number) => n * 2 });
      await routing.pause!('crunch');
      expect(await routing.paused!()).toEqual({ queue: false, tasks: ['crunch'] });
      expect(await cpu.paused()).toEqual({ queue: false, tasks: ['crunch'] });
      const handle = await submitTask(crunch, 21, { store, backend: routing });
      expect(cpu.queuedCount).toBe(1);
      expect(await handle.status()).toBe('pending');
      await routing.pause!();
      await cpu.resume();
      // The queue is paused where every backend's is.
      expect(await routing.paused!()).toEqual({ queue: false, tasks: ['crunch'] });
      await routing.resume!('crunch');
      expect(await handle.result({ timeout: 5000 })).toBe(42);
      await routing.resume!();
      expect(await routing.paused!()).toEqual({ queue: false, tasks: [] });
      await routing.close();
    });
  });

  describe('when a routed backend cannot pause', () => {
    it('should not offer pause at all', async () => {
      const inProcess = new InProcessBackend();
      const cannotPause = {
        name: 'plain',
        capabilities: inProcess.capabilities,
        launch: async () => {},
        cancel: async () => false,
        close: async () => {},
      };
      const routing = new RoutingBackend({ routes: { io: inProcess }, default: cannotPause });
      expect(routing.pause).toBeUndefined();
      expect(routing.paused).toBeUndefined();
      await inProcess.close();
    });
  });
});
