import { asyncCompute, ComputationNotFoundError, defineTask, InProcessBackend, MemoryStore } from '@au/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createVirtualClock } from '../src/index';

describe('createVirtualClock', () => {
  describe('when timers are set', () => {
    it('should start at the given time and stand still', async () => {
      const clock = createVirtualClock(1_000);
      expect(clock.now()).toBe(1_000);
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(clock.now()).toBe(1_000);
    });

    it('should fire due timers in order of due time, then of creation, at their due time', async () => {
      const clock = createVirtualClock();
      const fired: [string, number][] = [];
      clock.setTimeout(() => fired.push(['c', clock.now()]), 30);
      clock.setTimeout(() => fired.push(['a', clock.now()]), 10);
      clock.setTimeout(() => fired.push(['b', clock.now()]), 10);
      clock.setTimeout(() => fired.push(['late', clock.now()]), 100);
      expect(clock.pendingTimers).toBe(4);
      expect(clock.nextTimerAt).toBe(10);
      await clock.advance(50);
      expect(fired).toEqual([
        ['a', 10],
        ['b', 10],
        ['c', 30],
      ]);
      expect(clock.now()).toBe(50);
      expect(clock.pendingTimers).toBe(1);
    });

    it('should not fire a cleared timer', async () => {
      const clock = createVirtualClock();
      let fired = false;
      const handle = clock.setTimeout(() => {
        fired = true;
      }, 10);
      clock.clearTimeout(handle);
      await clock.advance(20);
      expect(fired).toBe(false);
      expect(clock.pendingTimers).toBe(0);
    });

    it('should fire timers set by async work started within the window', async () => {
      const clock = createVirtualClock();
      const fired: number[] = [];
      clock.setTimeout(async () => {
        await Promise.resolve();
        await Promise.resolve();
        clock.setTimeout(() => fired.push(clock.now()), 15);
      }, 10);
      await clock.advance(30);
      expect(fired).toEqual([25]);
    });

    it('should run every timer with runAll and refuse a timer loop', async () => {
      const clock = createVirtualClock();
      const fired: number[] = [];
      clock.setTimeout(() => {
        fired.push(clock.now());
        clock.setTimeout(() => fired.push(clock.now()), 1_000);
      }, 500);
      expect(await clock.runAll()).toBe(2);
      expect(fired).toEqual([500, 1_500]);
      const loop = () => clock.setTimeout(loop, 1);
      loop();
      await expect(clock.runAll({ limit: 50 })).rejects.toThrow(/timer loop/);
    });

    it('should refuse a negative advance', () => {
      expect(() => createVirtualClock().advance(-1)).toThrow(RangeError);
    });
  });

  describe('when it drives a MemoryStore', () => {
    it('should expire records as virtual time passes', async () => {
      const clock = createVirtualClock(1_000_000);
      const store = new MemoryStore({ clock });
      const base = { task: 't', status: 'completed' as const, attempt: 1, maxAttempts: 1, createdAt: 0 };
      await store.create({ ...base, key: 'short', expiresAt: clock.now() + 1_000 });
      await store.create({ ...base, key: 'long', expiresAt: clock.now() + 60_000 });
      await clock.advance(999);
      expect(await store.get('short')).toBeDefined();
      await clock.advance(1);
      expect(await store.get('short')).toBeUndefined();
      expect((await store.list()).records.map((record) => record.key)).toEqual(['long']);
      await clock.advance(60_000);
      expect(await store.cleanupExpired()).toBe(1);
      expect(store.size).toBe(0);
    });

    it('should expire a finished computation after its ttl', async () => {
      const clock = createVirtualClock(5_000);
      const store = new MemoryStore({ clock });
      const backend = new InProcessBackend({ clock });
      const double = asyncCompute((x: number) => x * 2, { store, backend, clock, ttl: 3_600 });
      const handle = await double(21);
      expect(await handle.result()).toBe(42);
      const record = await handle.record();
      expect(record.expiresAt).toBe(record.finishedAt! + 3_600_000);
      await clock.advance(3_600_000);
      await expect(handle.status()).rejects.toSatisfy(ComputationNotFoundError.isInstance);
      await backend.close();
    });
  });

  describe('when it drives retry backoff', () => {
    const backends: InProcessBackend[] = [];
    afterEach(async () => {
      await Promise.all(backends.splice(0).map((backend) => backend.close({ timeout: 100 })));
    });

    it('should wait out each backoff in virtual time only', async () => {
      const clock = createVirtualClock(0);
      const store = new MemoryStore({ clock });
      const backend = new InProcessBackend({ clock });
      backends.push(backend);
      const attempts: number[] = [];
      const task = defineTask({
        name: 'virtual-backoff',
        retry: { attempts: 3, backoff: 'exponential', delay: 60_000 },
        run: (_input: undefined, context) => {
          attempts.push(clock.now());
          if (context.attempt < 3) throw new Error(`attempt ${context.attempt}`);
          return 'done';
        },
      });
      const started = Date.now();
      const handle = await asyncCompute(task, { store, backend, clock })(undefined);
      await clock.advance(0);
      expect(await handle.record()).toMatchObject({ status: 'pending', attempt: 1, runAt: 60_000 });
      await clock.advance(59_999);
      expect((await handle.record()).attempt).toBe(1);
      await clock.advance(1);
      expect(await handle.record()).toMatchObject({ status: 'pending', attempt: 2, runAt: 180_000 });
      await clock.advance(120_000);
      expect(await handle.result()).toBe('done');
      expect(attempts).toEqual([0, 60_000, 180_000]);
      expect((await handle.record()).attempt).toBe(3);
      expect(Date.now() - started).toBeLessThan(5_000);
    });
  });
});
