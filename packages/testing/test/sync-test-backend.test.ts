import { asyncCompute, ClosedError, MemoryStore } from '@au/core';
import { afterEach, describe, expect, it } from 'vitest';
import { conformanceTasks, SyncTestBackend, testBackend } from '../src/index';

// SyncTestBackend runs the work inside `launch`, so nothing is ever queued or running
// while the test goes on: `background: false` skips the cancel-while-pending,
// cancel-while-running, cancel-late-completion, priority, concurrency-limit,
// record-missing(-logged) and store-outage-claim cases (they need work that waits or
// runs after `launch` resolved). It has no preemptive cancel (flag from its
// capabilities), and runs inline functions, so worker-unknown-task skips itself.
testBackend('SyncTestBackend', ({ logger }) => new SyncTestBackend({ logger }), { background: false });

describe('SyncTestBackend', () => {
  const stores: MemoryStore[] = [];
  const backends: SyncTestBackend[] = [];
  const setup = () => {
    const store = new MemoryStore();
    const backend = new SyncTestBackend();
    stores.push(store);
    backends.push(backend);
    return { store, backend };
  };
  afterEach(async () => {
    await Promise.all(backends.splice(0).map((backend) => backend.close({ timeout: 100 })));
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });

  describe('when a launch resolves', () => {
    it('should have finished the computation already', async () => {
      const { store, backend } = setup();
      const slow = asyncCompute(
        async (x: number) => {
          await new Promise((resolve) => setTimeout(resolve, 30));
          return x + 1;
        },
        { store, backend },
      );
      const handle = await slow(1);
      expect(await handle.status()).toBe('completed');
      expect((await handle.record()).value).toBe(2);
    });
  });

  describe('when a launch still running elsewhere is cancelled', () => {
    it('should abort it and let that launch resolve with a cancelled record', async () => {
      const { store, backend } = setup();
      const sleep = asyncCompute(conformanceTasks.sleep, { store, backend });
      const launching = sleep.launch([{ ms: 30_000 }], { key: 'sync-cancel' });
      const handle = sleep.handle('sync-cancel');
      while ((await store.get('sync-cancel'))?.status !== 'running') {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(backend.runningCount).toBe(1);
      expect(await handle.cancel()).toBe(true);
      await launching;
      expect(await handle.status()).toBe('cancelled');
      expect(backend.runningCount).toBe(0);
    });
  });

  describe('when closed', () => {
    it('should wait for launches in flight, then refuse new ones', async () => {
      const { store, backend } = setup();
      const stamp = asyncCompute(conformanceTasks.stamp, { store, backend });
      const launching = stamp({ id: 'a', ms: 100 });
      await new Promise((resolve) => setTimeout(resolve, 10));
      await backend.close({ timeout: 5000 });
      expect(await (await launching).status()).toBe('completed');
      await expect(stamp({ id: 'b', ms: 1 })).rejects.toSatisfy(ClosedError.isInstance);
    });

    it('should abort launches that outlive the timeout', async () => {
      const { store, backend } = setup();
      const sleep = asyncCompute(conformanceTasks.sleep, { store, backend });
      const launching = sleep({ ms: 30_000 });
      await new Promise((resolve) => setTimeout(resolve, 20));
      await backend.close({ timeout: 50 });
      expect(await (await launching).status()).toBe('cancelled');
    });
  });
});
