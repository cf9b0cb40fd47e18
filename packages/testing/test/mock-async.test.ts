import { asyncCompute, defineTask, getDefaults } from '@au/core';
import { describe, expect, it } from 'vitest';
import { createVirtualClock, mockAsync, SyncTestBackend } from '../src/index';

describe('mockAsync', () => {
  describe('when used with `using`', () => {
    it('should swap the defaults for the scope and restore them after', async () => {
      const before = getDefaults();
      const double = asyncCompute((x: number) => x * 2);
      {
        using mock = mockAsync();
        expect(getDefaults().store).toBe(mock.store);
        expect(getDefaults().backend).toBe(mock.backend);
        const handle = await double(21);
        // SyncTestBackend ran it inside the launch: already done.
        expect(await handle.status()).toBe('completed');
        expect(await handle.result()).toBe(42);
        expect((await mock.store.get(handle.key))?.value).toBe(42);
        expect(mock.backend.launchedCount).toBe(1);
      }
      expect(getDefaults().store).toBe(before.store);
      expect(getDefaults().backend).toBe(before.backend);
    });

    it('should restore once even when restore is called twice', () => {
      const before = getDefaults();
      const mock = mockAsync();
      mock.restore();
      mock.restore();
      expect(getDefaults().store).toBe(before.store);
    });
  });

  describe('when given a callback', () => {
    it('should swap the defaults inside the callback only', async () => {
      const before = getDefaults();
      const triple = asyncCompute((x: number) => x * 3);
      const result = await mockAsync(async (mock) => {
        expect(getDefaults().store).toBe(mock.store);
        expect(getDefaults().backend).toBeInstanceOf(SyncTestBackend);
        const handle = await triple(5);
        expect(await handle.status()).toBe('completed');
        return handle.result();
      });
      expect(result).toBe(15);
      expect(getDefaults().store).toBe(before.store);
    });

    it('should keep two concurrent mocks apart', async () => {
      const name = asyncCompute((label: string) => label);
      const [a, b] = await Promise.all([
        mockAsync(async (mock) => {
          const handle = await name('a');
          await new Promise((resolve) => setTimeout(resolve, 10));
          return { keys: (await mock.store.list()).records.map((record) => record.key), key: handle.key };
        }),
        mockAsync(async (mock) => {
          const handle = await name('b');
          return { keys: (await mock.store.list()).records.map((record) => record.key), key: handle.key };
        }),
      ]);
      expect(a.keys).toEqual([a.key]);
      expect(b.keys).toEqual([b.key]);
    });
  });

  describe('when given a virtual clock', () => {
    it('should wait out retries in virtual time', async () => {
      const clock = createVirtualClock(0);
      using mock = mockAsync({ clock });
      let calls = 0;
      const task = defineTask({
        name: 'mock-retry',
        retry: { attempts: 2, backoff: 'fixed', delay: 10_000 },
        run: () => {
          calls += 1;
          if (calls === 1) throw new Error('first fails');
          return 'second works';
        },
      });
      const launching = asyncCompute(task, { clock })(undefined);
      await clock.advance(10_000);
      const handle = await launching;
      expect(await handle.result()).toBe('second works');
      expect((await mock.store.get(handle.key))?.attempt).toBe(2);
    });
  });
});
