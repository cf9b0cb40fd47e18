import { describe, expect, it } from 'vitest';
import { processHolders } from '../src/clock';
import { CancelledError, ClosedError } from '../src/index';
import type { ExecutionOutcome } from '../src/kit';
import { invocation, setup } from './fixtures/scheduler-harness';

describe('LocalScheduler', () => {
  describe('when more work arrives than its concurrency', () => {
    it('should run higher priority first and equal priorities in arrival order', async () => {
      const { scheduler, store, started, keys, settle } = setup(1);
      scheduler.accept(invocation(store, 'first'));
      scheduler.accept(invocation(store, 'low', { priority: -1 }));
      scheduler.accept(invocation(store, 'a'));
      scheduler.accept(invocation(store, 'high', { priority: 5 }));
      scheduler.accept(invocation(store, 'b'));
      expect(scheduler.runningCount).toBe(1);
      expect(scheduler.queuedCount).toBe(4);
      for (let index = 0; index < 5; index++) {
        started[index]!.finish();
        await settle();
      }
      expect(keys()).toEqual(['first', 'high', 'a', 'b', 'low']);
      expect(scheduler.runningCount).toBe(0);
    });

    it('should start the next one when a slot is released early', async () => {
      const { scheduler, store, started, keys } = setup(1);
      scheduler.accept(invocation(store, 'one'));
      scheduler.accept(invocation(store, 'two'));
      expect(keys()).toEqual(['one']);
      started[0]!.releaseSlot();
      started[0]!.releaseSlot();
      expect(keys()).toEqual(['one', 'two']);
      expect(scheduler.runningCount).toBe(2);
    });
  });

  describe('when an invocation has a runAt ahead', () => {
    it('should hold it until then, and drop it on cancel', async () => {
      const { scheduler, store, keys, advance } = setup(2);
      scheduler.accept(invocation(store, 'later', { runAt: 1_500 }));
      scheduler.accept(invocation(store, 'dropped', { runAt: 1_500 }));
      expect(scheduler.queuedCount).toBe(2);
      advance(400);
      expect(keys()).toEqual([]);
      expect(scheduler.cancel('dropped')).toBe(true);
      advance(100);
      expect(keys()).toEqual(['later']);
      expect(scheduler.cancel('unknown')).toBe(false);
    });
  });

  describe('when a run reports a retry', () => {
    it('should queue it again after the delay', async () => {
      const { scheduler, store, started, keys, advance, settle } = setup(1);
      scheduler.accept(invocation(store, 'flaky'));
      const record = {
        key: 'flaky',
        task: 'noop',
        status: 'pending',
        attempt: 1,
        maxAttempts: 2,
        createdAt: 0,
      } as const;
      started[0]!.finish({ status: 'retry', delay: 200, error: new Error('flaky'), record });
      await settle();
      expect(scheduler.queuedCount).toBe(1);
      advance(199);
      expect(keys()).toEqual(['flaky']);
      advance(1);
      expect(keys()).toEqual(['flaky', 'flaky']);
    });
  });

  describe('when cancelling', () => {
    it('should abort running work with a CancelledError and drop queued work', async () => {
      const { scheduler, store, started } = setup(1);
      scheduler.accept(invocation(store, 'running'));
      scheduler.accept(invocation(store, 'queued'));
      expect(scheduler.cancel('queued')).toBe(true);
      expect(scheduler.queuedCount).toBe(0);
      expect(scheduler.cancel('running', 'not needed')).toBe(true);
      const reason = started[0]!.aborted[0];
      expect(CancelledError.isInstance(reason)).toBe(true);
      expect((reason as CancelledError).message).toContain('not needed');
    });
  });

  describe('when closing', () => {
    it('should resolve once idle when the work ends within the timeout', async () => {
      const { scheduler, store, started, advance } = setup(1);
      scheduler.accept(invocation(store, 'one'));
      const closed = scheduler.close(1_000);
      expect(scheduler.closed).toBe(true);
      advance(500);
      started[0]!.finish();
      await closed;
      expect(started[0]!.aborted).toEqual([]);
    });

    it('should abort running work and record waiting work cancelled after the timeout', async () => {
      const { scheduler, store, started, advance, settle } = setup(1);
      for (const key of ['running', 'queued', 'delayed']) {
        await store.create({
          key,
          task: 'noop',
          status: 'pending',
          attempt: 0,
          maxAttempts: 1,
          createdAt: 0,
          ttl: 60,
        });
      }
      scheduler.accept(invocation(store, 'running'));
      scheduler.accept(invocation(store, 'queued', { ttl: 60 }));
      scheduler.accept(invocation(store, 'delayed', { runAt: 10_000 }));
      const closed = scheduler.close(1_000);
      await settle();
      advance(1_000);
      await closed;
      expect(ClosedError.isInstance(started[0]!.aborted[0])).toBe(true);
      expect(started).toHaveLength(1);
      expect(scheduler.queuedCount).toBe(0);
      const queued = await store.get('queued');
      expect(queued?.status).toBe('cancelled');
      expect(queued?.error?.message).toContain('the backend closed before it ran');
      expect(queued?.expiresAt).toBe(queued!.finishedAt! + 60_000);
      expect((await store.get('delayed'))?.status).toBe('cancelled');
      expect((await store.get('delayed'))?.expiresAt).toBeUndefined();
      expect((await store.get('running'))?.status).toBe('pending');
    });
  });

  describe('when it holds work', () => {
    const retryOutcome = (key: string): ExecutionOutcome => ({
      status: 'retry',
      delay: 500,
      error: new Error('flaky'),
      record: { key, task: 'noop', status: 'pending', attempt: 1, maxAttempts: 2, createdAt: 0 },
    });

    it('should keep the process alive while work is delayed, running or backing off, and let go once idle', async () => {
      const { scheduler, store, started, advance, settle } = setup(1);
      const before = processHolders();
      scheduler.accept(invocation(store, 'delayed', { runAt: 2_000 }));
      scheduler.accept(invocation(store, 'second', { runAt: 2_000 }));
      expect(processHolders()).toBe(before + 1);
      advance(1_000);
      expect(scheduler.runningCount).toBe(1);
      expect(processHolders()).toBe(before + 1);
      started[0]!.finish(retryOutcome('delayed'));
      await settle();
      started[1]!.finish();
      await settle();
      // Only the retry is left, waiting out its backoff.
      expect(scheduler.runningCount + scheduler.queuedCount).toBe(1);
      expect(processHolders()).toBe(before + 1);
      advance(500);
      started[2]!.finish();
      await settle();
      expect(processHolders()).toBe(before);
    });

    it('should let go when its only work is cancelled', () => {
      const { scheduler, store } = setup(1);
      const before = processHolders();
      scheduler.accept(invocation(store, 'delayed', { runAt: 60_000 }));
      expect(processHolders()).toBe(before + 1);
      scheduler.cancel('delayed');
      expect(processHolders()).toBe(before);
    });

    it('should let go once closed with delayed work left', async () => {
      const { scheduler, store, advance } = setup(1);
      const before = processHolders();
      scheduler.accept(invocation(store, 'delayed', { runAt: 60_000 }));
      const closed = scheduler.close(1_000);
      advance(1_000);
      await closed;
      expect(processHolders()).toBe(before);
    });
  });
});
