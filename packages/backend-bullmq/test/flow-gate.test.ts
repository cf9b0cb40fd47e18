import {
  type ComputationHandle,
  defineTask,
  deleteSchedule,
  schedule,
  scheduleTag,
  submitTask,
} from '@au/core';
import { RedisStore } from '@au/store-redis';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { flowKey } from '../src/flow-gate';
import { BullMQBackend } from '../src/index';
import { redisUp, redisUrl, TestResources, waitFor } from './helpers';

const resources = new TestResources();
afterAll(() => (redisUp ? resources.cleanup() : undefined));

/** A latch a task awaits until the test opens it. */
function latch() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

interface MutexInput {
  name: string;
  group: string;
  hold?: boolean;
  failFirst?: boolean;
  /** Ms the run lasts. */
  ms?: number;
}

/** The names of the runs, in the order they started (attempts of one name repeat it). */
let started: string[] = [];
/** Runs going on and the most seen at once, per group. */
const running = new Map<string, number>();
const mostAtOnce = new Map<string, number>();
let blocker = latch();

const mutexTask = defineTask({
  name: 'flow.mutex',
  concurrency: { limit: 1, key: ({ group }: MutexInput) => group },
  retry: { attempts: 2, backoff: 'fixed', delay: 3000 },
  run: async ({ name, group, hold, failFirst, ms }: MutexInput, context) => {
    started.push(name);
    running.set(group, (running.get(group) ?? 0) + 1);
    mostAtOnce.set(group, Math.max(mostAtOnce.get(group) ?? 0, running.get(group)!));
    try {
      if (hold) await blocker.opened;
      if (ms !== undefined) await new Promise((resolve) => setTimeout(resolve, ms));
    } finally {
      running.set(group, running.get(group)! - 1);
    }
    if (failFirst && context.attempt === 1) throw new Error(`${name} fails once`);
    return name;
  },
});

describe.runIf(redisUp)('backend-bullmq', () => {
  describe('when a concurrency group is full (in-process worker)', () => {
    let store: RedisStore | undefined;
    let backend: BullMQBackend | undefined;
    let redis: Redis | undefined;
    let queue = '';

    const start = () => {
      queue = resources.queue('gate');
      store = new RedisStore({ redis: redisUrl, prefix: resources.prefix('gate') });
      backend = new BullMQBackend({ connection: redisUrl, queue, worker: { store, concurrency: 10 } });
      redis = new Redis(redisUrl);
      started = [];
      running.clear();
      mostAtOnce.clear();
      blocker = latch();
      return { store, backend, redis };
    };
    const submit = (input: MutexInput, priority = 0) =>
      submitTask(mutexTask, input, { store: store!, backend: backend!, priority });
    const waiters = (group: string) =>
      redis!.zcard(flowKey({ prefix: 'bull', queue }, 'conc-waiting', `flow.mutex:${group}`));
    const liveSlots = async (group: string) => {
      const [seconds, micros] = await redis!.time();
      const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
      return redis!.zcount(
        flowKey({ prefix: 'bull', queue }, 'conc', `flow.mutex:${group}`),
        `(${now}`,
        '+inf',
      );
    };
    const results = (handles: ComputationHandle<string>[]) =>
      Promise.all(handles.map((handle) => handle.result({ timeout: 30_000 })));

    afterEach(async () => {
      blocker.open();
      // Past a short drain, what still waits (a schedule's parked ticks) is cancelled.
      await backend?.close({ timeout: 2000 });
      await store?.close();
      redis?.disconnect();
    });

    it('should keep the waiters pending and start them in priority order, then first come', async () => {
      start();
      const holder = await submit({ name: 'holder', group: 'g', hold: true });
      await waitFor('the holder to run', async () =>
        (await holder.status()) === 'running' ? true : undefined,
      );
      // One at a time, so that they reach the group's waiting list in this order.
      const waiting = async (input: MutexInput, priority: number, count: number) => {
        const handle = await submit(input, priority);
        await waitFor(`${count} to wait`, async () => ((await waiters('g')) === count ? true : undefined));
        return handle;
      };
      const low = [
        await waiting({ name: 'low-1', group: 'g' }, 1, 1),
        await waiting({ name: 'low-2', group: 'g' }, 1, 2),
      ];
      const high = [
        await waiting({ name: 'high-1', group: 'g' }, 9, 3),
        await waiting({ name: 'high-2', group: 'g' }, 9, 4),
      ];
      // Parked work has not started: its records are still pending.
      for (const handle of [...low, ...high]) expect(await handle.status()).toBe('pending');
      // Another group is not held up by this one.
      expect(await (await submit({ name: 'other', group: 'h' })).result({ timeout: 30_000 })).toBe('other');

      blocker.open();
      await results([holder, ...low, ...high]);
      expect(started.filter((name) => name !== 'other')).toEqual([
        'holder',
        'high-1',
        'high-2',
        'low-1',
        'low-2',
      ]);
      expect(await liveSlots('g')).toBe(0);
      expect(await waiters('g')).toBe(0);
    }, 60_000);

    it('should free the slot during a retry backoff', async () => {
      start();
      const flaky = await submit({ name: 'flaky', group: 'g', hold: true, failFirst: true });
      await waitFor('flaky to run', async () => ((await flaky.status()) === 'running' ? true : undefined));
      const next = await submit({ name: 'next', group: 'g' });
      await waitFor('next to wait', async () => ((await waiters('g')) === 1 ? true : undefined));
      blocker.open();
      await results([flaky, next]);
      // `next` ran while `flaky` waited 3 s for its second attempt.
      expect(started).toEqual(['flaky', 'next', 'flaky']);
      expect((await flaky.record())?.attempt).toBe(2);
      expect(await liveSlots('g')).toBe(0);
    }, 60_000);

    it("should keep a schedule's overlapping runs to the limit of their key", async () => {
      start();
      // A run lasts 400 ms and one starts every 100 ms: without the limit, they would overlap.
      await schedule(mutexTask, {
        id: 'mutex-every',
        every: 100,
        overlap: 'allow',
        input: { name: 'tick', group: 's', ms: 400 },
        store: store!,
        backend: backend!,
      });
      const runs = await waitFor(
        'three completed runs',
        async () => {
          const page = await store!.list({ tag: scheduleTag('mutex-every'), limit: 100 });
          const completed = page.records.filter((record) => record.status === 'completed');
          return completed.length >= 3 ? completed : undefined;
        },
        30_000,
      );
      expect(await deleteSchedule('mutex-every', { store: store!, backend: backend! })).toBe(true);
      expect(mostAtOnce.get('s')).toBe(1);
      // The run's record keeps its group, for a retry.
      for (const run of runs) expect(run.meta?.concurrencyKey).toBe('flow.mutex:s');
    }, 60_000);

    it('should pass over a waiter cancelled while it waits, leaking no slot', async () => {
      start();
      const holder = await submit({ name: 'holder', group: 'g', hold: true });
      await waitFor('the holder to run', async () =>
        (await holder.status()) === 'running' ? true : undefined,
      );
      const cancelled = await submit({ name: 'cancelled', group: 'g' }, 5);
      const after = await submit({ name: 'after', group: 'g' });
      await waitFor('both to wait', async () => ((await waiters('g')) === 2 ? true : undefined));
      expect(await cancelled.cancel()).toBe(true);
      blocker.open();
      expect(await results([holder, after])).toEqual(['holder', 'after']);
      expect(await cancelled.status()).toBe('cancelled');
      expect(started).toEqual(['holder', 'after']);
      expect(await liveSlots('g')).toBe(0);
      expect(await waiters('g')).toBe(0);
    }, 60_000);
  });
});
