import { describe, expect, it } from 'vitest';
import type { Invocation } from '../src/index';
import type { ExecutionOutcome } from '../src/kit';
import { invocation, type Started, setup } from './fixtures/scheduler-harness';

type Setup = ReturnType<typeof setup>;

/** An invocation in concurrency group `group` (limit `limit`). */
function inGroup(context: Setup, key: string, group: string, limit: number, extra: Partial<Invocation> = {}) {
  return invocation(context.store, key, { concurrency: { key: `noop:${group}`, limit }, ...extra });
}

/** An invocation in rate-limit group `group`: `limit` starts per `interval` ms. */
function rated(
  context: Setup,
  key: string,
  limit: number,
  interval: number,
  extra: Partial<Invocation> = {},
) {
  return invocation(context.store, key, { rateLimit: { key: 'noop:rated', limit, interval }, ...extra });
}

const retryOutcome = (key: string, delay: number): ExecutionOutcome => ({
  status: 'retry',
  delay,
  error: new Error('flaky'),
  record: { key, task: 'noop', status: 'pending', attempt: 1, maxAttempts: 2, createdAt: 0 },
});

/** Ends the running computation `key` (its slot and group place free at once). */
function release(context: Setup, key: string): void {
  const entry = context.started.findLast((started) => started.key === key);
  if (entry === undefined) throw new Error(`${key} never started`);
  entry.releaseSlot();
}

describe('LocalScheduler flow limits', () => {
  describe('when invocations carry a concurrency group', () => {
    it('should run at most `limit` of one group and start the next one as a place frees', () => {
      const context = setup(10);
      const { scheduler, keys } = context;
      for (const key of ['a1', 'a2', 'a3', 'a4']) scheduler.accept(inGroup(context, key, 'a', 2));
      scheduler.accept(inGroup(context, 'b1', 'b', 2));
      scheduler.accept(invocation(context.store, 'free'));
      expect(keys()).toEqual(['a1', 'a2', 'b1', 'free']);
      expect(scheduler.queuedCount).toBe(2);
      expect(scheduler.waitingCount('noop')).toBe(2);
      release(context, 'a2');
      expect(keys()).toEqual(['a1', 'a2', 'b1', 'free', 'a3']);
      release(context, 'b1');
      expect(keys()).toHaveLength(5);
      release(context, 'a1');
      expect(keys()).toEqual(['a1', 'a2', 'b1', 'free', 'a3', 'a4']);
      expect(scheduler.queuedCount).toBe(0);
    });

    it('should start waiting work of a group in priority order, FIFO within a priority', () => {
      const context = setup(1);
      const { scheduler, keys } = context;
      scheduler.accept(inGroup(context, 'first', 'g', 1));
      scheduler.accept(inGroup(context, 'p0', 'g', 1));
      scheduler.accept(inGroup(context, 'p5', 'g', 1, { priority: 5 }));
      scheduler.accept(inGroup(context, 'q0', 'g', 1));
      scheduler.accept(inGroup(context, 'p1', 'g', 1, { priority: 1 }));
      for (const key of ['first', 'p5', 'p1', 'p0']) release(context, key);
      expect(keys()).toEqual(['first', 'p5', 'p1', 'p0', 'q0']);
    });

    it('should let work of other groups pass work whose group is full', () => {
      const context = setup(2);
      const { scheduler, keys } = context;
      scheduler.accept(inGroup(context, 'a1', 'a', 1));
      scheduler.accept(inGroup(context, 'a2', 'a', 1, { priority: 9 }));
      scheduler.accept(inGroup(context, 'b1', 'b', 1));
      expect(keys()).toEqual(['a1', 'b1']);
      release(context, 'b1');
      release(context, 'a1');
      expect(keys()).toEqual(['a1', 'b1', 'a2']);
    });

    it("should free a group's place while a retry backs off, and count the retry's start again", async () => {
      const context = setup(5);
      const { scheduler, keys, started, advance, settle } = context;
      scheduler.accept(inGroup(context, 'flaky', 'g', 1));
      scheduler.accept(inGroup(context, 'next', 'g', 1));
      expect(keys()).toEqual(['flaky']);
      started[0]!.finish(retryOutcome('flaky', 100));
      await settle();
      expect(keys()).toEqual(['flaky', 'next']);
      advance(100);
      // Its backoff is over, but `next` holds the group's only place.
      expect(keys()).toEqual(['flaky', 'next']);
      expect(scheduler.queuedCount).toBe(1);
      release(context, 'next');
      expect(keys()).toEqual(['flaky', 'next', 'flaky']);
    });

    it('should free nothing when queued work is cancelled, and free the place of cancelled running work', async () => {
      const context = setup(5);
      const { scheduler, keys, settle } = context;
      for (const key of ['g1', 'g2', 'g3']) scheduler.accept(inGroup(context, key, 'g', 1));
      expect(scheduler.cancel('g2')).toBe(true);
      expect(keys()).toEqual(['g1']);
      expect(scheduler.queuedCount).toBe(1);
      expect(scheduler.cancel('g1')).toBe(true);
      await settle();
      expect(keys()).toEqual(['g1', 'g3']);
      expect(scheduler.runningCount).toBe(1);
    });

    it('should keep starting 10,000 queued computations of one group without rescanning the queue', () => {
      const context = setup(4);
      const { scheduler, started } = context;
      const count = 10_000;
      let priorityReads = 0;
      for (let index = 0; index < count; index++) {
        const work = inGroup(context, `w${index}`, 'one', 1);
        // Every comparison of two queued computations reads their priorities.
        Object.defineProperty(work, 'priority', {
          get: () => {
            priorityReads += 1;
            return 0;
          },
        });
        scheduler.accept(work);
      }
      for (let index = 0; index < count; index++) started[index]!.releaseSlot();
      expect(started).toHaveLength(count);
      expect(started.map((entry) => entry.key)).toEqual(
        Array.from({ length: count }, (_, index) => `w${index}`),
      );
      // A heap move costs ~2·log2(n) comparisons of up to 4 reads; a rescan of the queue
      // per start would cost n²/2 = 5e7 comparisons.
      expect(priorityReads).toBeLessThan(count * 16 * Math.log2(count));
    });
  });

  describe('when closed with work waiting on a limit', () => {
    it('should record it cancelled and never start it when running work ends', async () => {
      const context = setup(5);
      const { scheduler, keys, store, advance, settle } = context;
      await store.create({
        key: 'g2',
        task: 'noop',
        status: 'pending',
        attempt: 0,
        maxAttempts: 1,
        createdAt: 0,
      });
      scheduler.accept(inGroup(context, 'g1', 'g', 1));
      scheduler.accept(inGroup(context, 'g2', 'g', 1));
      scheduler.accept(rated(context, 'r1', 1, 60_000));
      scheduler.accept(rated(context, 'r2', 1, 60_000));
      const closed = scheduler.close(1_000);
      await settle();
      advance(1_000);
      await closed;
      advance(60_000);
      await settle();
      expect(keys()).toEqual(['g1', 'r1']);
      expect(scheduler.queuedCount).toBe(0);
      expect((await store.get('g2'))?.status).toBe('cancelled');
    });
  });

  describe('when invocations carry a rate limit', () => {
    it('should delay starts past `limit` per `interval`, never refuse them, and count them as waiting', () => {
      const context = setup(10);
      const { scheduler, keys, advance } = context;
      for (const key of ['r1', 'r2', 'r3', 'r4', 'r5']) scheduler.accept(rated(context, key, 2, 1000));
      expect(keys()).toEqual(['r1', 'r2']);
      expect(scheduler.queuedCount).toBe(3);
      expect(scheduler.waitingCount('noop')).toBe(3);
      advance(999);
      expect(keys()).toHaveLength(2);
      advance(1);
      expect(keys()).toEqual(['r1', 'r2', 'r3', 'r4']);
      advance(1000);
      expect(keys()).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
      expect(scheduler.queuedCount).toBe(0);
    });

    it('should slide its window: room comes back one start at a time', () => {
      const context = setup(10);
      const { scheduler, keys, advance } = context;
      scheduler.accept(rated(context, 'r1', 2, 1000));
      advance(500);
      scheduler.accept(rated(context, 'r2', 2, 1000));
      scheduler.accept(rated(context, 'r3', 2, 1000));
      scheduler.accept(rated(context, 'r4', 2, 1000));
      expect(keys()).toEqual(['r1', 'r2']);
      advance(500);
      expect(keys()).toEqual(['r1', 'r2', 'r3']);
      advance(499);
      expect(keys()).toHaveLength(3);
      advance(1);
      expect(keys()).toEqual(['r1', 'r2', 'r3', 'r4']);
    });

    it('should reopen for parked work when time moves while it decides and its timer fires early', () => {
      // Reading the clock twice (full, then room a millisecond later) once left parked
      // work with neither a timer nor anything to hand the room on: it never started.
      const context = setup(10, { drifting: true });
      const { scheduler, keys, advance } = context;
      for (let index = 0; index < 9; index++) scheduler.accept(rated(context, `r${index}`, 3, 100));
      for (let step = 0; step < 1000 && keys().length < 9; step++) advance(1);
      expect(keys()).toHaveLength(9);
      expect(scheduler.queuedCount).toBe(0);
    });

    it('should count each attempt start', async () => {
      const context = setup(10);
      const { scheduler, keys, started, advance, settle } = context;
      scheduler.accept(rated(context, 'flaky', 1, 1000));
      started[0]!.finish(retryOutcome('flaky', 10));
      await settle();
      advance(10);
      expect(keys()).toEqual(['flaky']);
      advance(990);
      expect(keys()).toEqual(['flaky', 'flaky']);
    });

    it('should hand its room on when the work it lets through is held by a concurrency group', () => {
      const context = setup(10);
      const { scheduler, keys, advance } = context;
      const both = (key: string, group: string) =>
        rated(context, key, 2, 1000, { concurrency: { key: `noop:${group}`, limit: 1 } });
      scheduler.accept(both('a1', 'a'));
      scheduler.accept(both('b1', 'b'));
      scheduler.accept(both('a2', 'a'));
      scheduler.accept(both('b2', 'b'));
      scheduler.accept(both('c1', 'c'));
      expect(keys()).toEqual(['a1', 'b1']);
      advance(1000);
      // a2 and b2 wait for their groups; c1 takes the window's room.
      expect(keys()).toEqual(['a1', 'b1', 'c1']);
      release(context, 'a1');
      expect(keys()).toEqual(['a1', 'b1', 'c1', 'a2']);
      release(context, 'b1');
      // Two starts in the last 1000 ms (c1, a2): b2 waits for the window.
      expect(keys()).toHaveLength(4);
      advance(1000);
      expect(keys()).toEqual(['a1', 'b1', 'c1', 'a2', 'b2']);
      expect(scheduler.queuedCount).toBe(0);
    });
  });

  describe('when paused', () => {
    it('should hold the paused task only, keep its order, and start it again on resume', () => {
      const context = setup(10);
      const { scheduler, keys } = context;
      scheduler.pause('noop');
      scheduler.pause('noop');
      expect(scheduler.paused()).toEqual({ queue: false, tasks: ['noop'] });
      scheduler.accept(invocation(context.store, 'low', { priority: -1 }));
      scheduler.accept(invocation(context.store, 'high', { priority: 1 }));
      scheduler.accept(invocation(context.store, 'other', { task: 'other' }));
      expect(keys()).toEqual(['other']);
      expect(scheduler.waitingCount('noop')).toBe(2);
      scheduler.resume('noop');
      expect(keys()).toEqual(['other', 'high', 'low']);
      expect(scheduler.paused()).toEqual({ queue: false, tasks: [] });
    });

    it('should hold every task while the queue is paused, and a task paused by name until resumed by name', () => {
      const context = setup(10);
      const { scheduler, keys } = context;
      scheduler.accept(invocation(context.store, 'running'));
      scheduler.pause();
      scheduler.pause('other');
      scheduler.accept(invocation(context.store, 'a'));
      scheduler.accept(invocation(context.store, 'b', { task: 'other' }));
      expect(keys()).toEqual(['running']);
      expect(scheduler.paused()).toEqual({ queue: true, tasks: ['other'] });
      scheduler.resume('other');
      expect(keys()).toEqual(['running']);
      scheduler.pause('other');
      scheduler.resume();
      expect(keys()).toEqual(['running', 'a']);
      scheduler.resume('other');
      expect(keys()).toEqual(['running', 'a', 'b']);
    });

    it('should let go of paused work on cancel, and of a paused computation of a full group', () => {
      const context = setup(10);
      const { scheduler, keys } = context;
      scheduler.accept(inGroup(context, 'g1', 'g', 1));
      scheduler.accept(inGroup(context, 'g2', 'g', 1));
      scheduler.accept(inGroup(context, 'g3', 'g', 1));
      scheduler.pause('noop');
      release(context, 'g1');
      expect(keys()).toEqual(['g1']);
      expect(scheduler.cancel('g2')).toBe(true);
      expect(scheduler.queuedCount).toBe(1);
      scheduler.resume('noop');
      expect(keys()).toEqual(['g1', 'g3']);
    });
  });
});

describe('LocalScheduler flow limits under random work', () => {
  /** A small deterministic generator (mulberry32): the same run every time. */
  function random(seed: number): () => number {
    let state = seed;
    return () => {
      state = (state + 0x6d2b79f5) | 0;
      let value = Math.imul(state ^ (state >>> 15), 1 | state);
      value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
      return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
    };
  }

  // Drifting: time passes while the scheduler decides and timers fire early, as on Node.
  it.each([
    [1, false],
    [2, false],
    [3, false],
    [4, true],
    [5, true],
    [6, true],
  ])('should never pass a limit, nor leave work behind (seed %i, drifting clock: %s)', (seed, drifting) => {
    const next = random(seed);
    const concurrency = 4;
    const context = setup(concurrency, { drifting });
    const { scheduler, started, advance } = context;
    const groupLimit = { a: 1, b: 2, c: 3 } as const;
    const rateLimit = 3;
    const interval = 100;
    const groupOf = new Map<string, keyof typeof groupLimit | undefined>();
    const rateOf = new Map<string, string | undefined>();
    const running = new Set<string>();
    const cancelled = new Set<string>();
    const startsByRate = new Map<string, number[]>();
    let seen = 0;
    let launched = 0;

    const entryOf = new Map<string, Started>();
    const check = () => {
      for (; seen < started.length; seen++) {
        const entry = started[seen]!;
        entryOf.set(entry.key, entry);
        running.add(entry.key);
        const rate = rateOf.get(entry.key);
        if (rate === undefined) continue;
        const starts = startsByRate.get(rate) ?? [];
        starts.push(entry.at);
        startsByRate.set(rate, starts);
        // This start and the `rateLimit` before it span at least the interval.
        if (starts.length > rateLimit)
          expect(starts.at(-1)! - starts.at(-1 - rateLimit)!).toBeGreaterThanOrEqual(interval);
      }
      expect(running.size).toBeLessThanOrEqual(concurrency);
      for (const [group, limit] of Object.entries(groupLimit)) {
        const ofGroup = [...running].filter((key) => groupOf.get(key) === group);
        expect(ofGroup.length, `running in group ${group}`).toBeLessThanOrEqual(limit);
      }
    };
    const end = (key: string) => {
      running.delete(key);
      entryOf.get(key)!.releaseSlot();
    };

    for (let step = 0; step < 3000; step++) {
      const roll = next();
      if (roll < 0.45) {
        const key = `w${launched++}`;
        const group = (['a', 'b', 'c', undefined] as const)[Math.floor(next() * 4)];
        const rate = next() < 0.4 ? (next() < 0.5 ? 'x' : 'y') : undefined;
        groupOf.set(key, group);
        rateOf.set(key, rate);
        scheduler.accept(
          invocation(context.store, key, {
            priority: Math.floor(next() * 3),
            ...(group === undefined
              ? {}
              : { concurrency: { key: `noop:${group}`, limit: groupLimit[group] } }),
            ...(rate === undefined ? {} : { rateLimit: { key: `noop:${rate}`, limit: rateLimit, interval } }),
            ...(next() < 0.1 ? { task: 'other' } : {}),
          }),
        );
      } else if (roll < 0.8 && running.size > 0) {
        end([...running][Math.floor(next() * running.size)]!);
      } else if (roll < 0.85) {
        const key = `w${Math.floor(next() * launched)}`;
        if (!entryOf.has(key) && scheduler.cancel(key)) cancelled.add(key);
      } else if (roll < 0.95) advance(Math.floor(next() * 60));
      else if (roll < 0.975) scheduler.pause(next() < 0.5 ? undefined : 'other');
      else scheduler.resume(next() < 0.5 ? undefined : 'other');
      check();
    }

    // Everything left starts once nothing is paused and running work ends.
    scheduler.resume();
    scheduler.resume('other');
    for (let round = 0; round < 10_000 && scheduler.queuedCount > 0; round++) {
      for (const key of [...running]) end(key);
      advance(interval);
      check();
    }
    expect(scheduler.queuedCount).toBe(0);
    expect(entryOf.size + cancelled.size).toBe(launched);
  });
});
