import { PgTransport } from '@au/store-supabase';
import { requireService } from '@au/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresQueueBackend, QueueClient, type QueueJob } from '../src/index';
import { freshSchema } from './helpers';

const postgresUp = await requireService('postgres');

describe.skipIf(!postgresUp)('the queue SQL functions: flow control', () => {
  let database: Awaited<ReturnType<typeof freshSchema>>;
  let transport: PgTransport;
  let count = 0;
  beforeAll(async () => {
    database = await freshSchema();
    transport = new PgTransport(database.pool, { schema: database.schema });
  });
  afterAll(async () => {
    await database?.drop();
  });
  /** A queue of its own, with `jobs` enqueued (keys `<queue>.<name>`). */
  const queueWith = async (jobs: readonly (Partial<QueueJob> & { key: string })[]) => {
    const queue = new QueueClient(transport, `flow${++count}`);
    await queue.enqueueMany(
      jobs.map((job) => ({
        task: 't',
        priority: 0,
        maxAttempts: 1,
        maxLeaseExpiries: 3,
        ...job,
        key: `${queue.queue}.${job.key}`,
      })),
    );
    return queue;
  };
  /** The claimed rows' names (keys without their queue), sorted. */
  const keys = (rows: readonly { key: string }[]) => rows.map((row) => name(row.key)).sort();
  const name = (key: string | undefined) => key?.slice(key.indexOf('.') + 1);
  const running = async (queue: QueueClient) => (await queue.stats()).running ?? 0;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  describe('when rows have a concurrency key', () => {
    it('should hand out at most the limit of a key, by priority, and rows of other keys in the same batch', async () => {
      const queue = await queueWith([
        ...[1, 2, 3, 4].map((n) => ({
          key: `g${n}`,
          priority: 10 - n,
          concurrencyKey: 't:g',
          concurrencyLimit: 2,
        })),
        { key: 'h1', priority: 1, concurrencyKey: 't:h', concurrencyLimit: 1 },
        { key: 'free', priority: 0 },
      ]);
      expect(keys(await queue.claim('w', 10, 30_000))).toEqual(['free', 'g1', 'g2', 'h1']);
      expect(await queue.claim('w', 10, 30_000), 'every key is full').toEqual([]);
    });

    it('should free a slot when a delivery completes, fails, backs off or is given back', async () => {
      const queue = await queueWith(
        [1, 2, 3, 4, 5, 6].map((n) => ({
          key: `g${n}`,
          priority: 10 - n,
          concurrencyKey: 't:g',
          concurrencyLimit: 2,
          maxAttempts: 3,
        })),
      );
      const [first, second] = await queue.claim('w', 10, 30_000);
      expect(await queue.complete(first!)).toBe(true);
      const [third] = await queue.claim('w', 10, 30_000);
      expect(name(third?.key), 'the next by priority').toBe('g3');
      expect(await queue.claim('w', 10, 30_000)).toEqual([]);
      expect(await queue.fail(second!, { name: 'E', message: 'again' }, true, 60_000)).toBe('retry');
      const [fourth] = await queue.claim('w', 10, 30_000);
      expect(name(fourth?.key), 'a retry backing off holds no slot').toBe('g4');
      expect(await queue.release(fourth!, 60_000)).toBe(true);
      const [fifth] = await queue.claim('w', 10, 30_000);
      expect(name(fifth?.key), 'a delivery given back holds no slot').toBe('g5');
      expect(await running(queue)).toBe(2);
    });

    it("should free a dead worker's slot once its lease expires", async () => {
      const queue = await queueWith(
        [1, 2, 3].map((n) => ({
          key: `g${n}`,
          priority: 10 - n,
          concurrencyKey: 't:g',
          concurrencyLimit: 1,
        })),
      );
      const [held] = await queue.claim('dead', 10, 150);
      expect(name(held?.key)).toBe('g1');
      expect(await queue.claim('w', 10, 30_000), 'the lease is live').toEqual([]);
      await sleep(300);
      const [next] = await queue.claim('w', 10, 30_000);
      expect(name(next?.key), 'swept back in place, it runs again first').toBe('g1');
      expect(next?.lease_token).not.toBe(held?.lease_token);
      expect(await running(queue)).toBe(1);
    });

    it('should never exceed the limit under many simultaneous claims', async () => {
      for (let round = 0; round < 3; round++) {
        const queue = await queueWith(
          Array.from({ length: 40 }, (_, n) => ({
            key: `${n}`,
            priority: n % 5,
            concurrencyKey: `t:${n % 2 === 0 ? 'even' : 'odd'}`,
            concurrencyLimit: 3,
          })),
        );
        const claims = await Promise.all(
          Array.from({ length: 12 }, (_, n) => queue.claim(`w${n}`, 5, 30_000)),
        );
        const byGroup = (rows: readonly { key: string }[]) => ({
          even: rows.filter((row) => Number(name(row.key)) % 2 === 0).length,
          odd: rows.filter((row) => Number(name(row.key)) % 2 === 1).length,
        });
        const together = byGroup(claims.flat());
        expect(together.even, 'even: at most 3 at once').toBeLessThanOrEqual(3);
        expect(together.odd, 'odd: at most 3 at once').toBeLessThanOrEqual(3);
        // What a contended group left for later is taken by the next claim.
        await queue.claim('late', 10, 30_000);
        const { rows } = await database.pool.query<{ key: string }>(
          `select key from ${database.schema}.au_results where queue = $1 and queue_status = 'running'`,
          [queue.queue],
        );
        expect(byGroup(rows)).toEqual({ even: 3, odd: 3 });
      }
    });
  });

  describe('when rows have a rate limit', () => {
    it('should start at most the limit per interval, count each attempt, and leave the rest waiting', async () => {
      const queue = await queueWith([
        ...[1, 2, 3, 4].map((n) => ({
          key: `r${n}`,
          priority: 10 - n,
          rateKey: 't',
          rateLimit: 2,
          rateInterval: 60_000,
          maxAttempts: 2,
        })),
        { key: 'free' },
      ]);
      const claimed = await queue.claim('w', 10, 30_000);
      expect(keys(claimed)).toEqual(['free', 'r1', 'r2']);
      const r1 = claimed.find((row) => name(row.key) === 'r1')!;
      expect(await queue.fail(r1, { name: 'E', message: 'again' }, true, 0)).toBe('retry');
      expect(await queue.claim('w', 10, 30_000), 'a retry is a start too: the window is full').toEqual([]);
      expect(await queue.stats()).toEqual({ queued: 3, running: 2 });
    });

    it('should say when the full window has room again, for the worker to claim then', async () => {
      const queue = await queueWith(
        [1, 2, 3].map((n) => ({ key: `r${n}`, rateKey: 't', rateLimit: 1, rateInterval: 60_000 })),
      );
      const first = await queue.claimBatch('w', 10, 30_000);
      expect(first.rows).toHaveLength(1);
      expect(first.wakeInMs).toBeGreaterThan(0);
      expect(first.wakeInMs).toBeLessThanOrEqual(60_000);
      const ungrouped = await queueWith([{ key: 'free' }]);
      const batch = await ungrouped.claimBatch('w', 10, 30_000);
      expect(batch.rows).toHaveLength(1);
      expect(batch.wakeInMs, 'nothing waits on a window').toBeUndefined();
    });

    it('should start more once the window has room again', async () => {
      const queue = await queueWith(
        [1, 2, 3, 4, 5].map((n) => ({
          key: `r${n}`,
          priority: 10 - n,
          rateKey: 't',
          rateLimit: 2,
          rateInterval: 300,
        })),
      );
      expect(keys(await queue.claim('w', 10, 30_000))).toEqual(['r1', 'r2']);
      await sleep(400);
      expect(keys(await queue.claim('w', 10, 30_000))).toEqual(['r3', 'r4']);
    });
  });

  describe('when a task or the queue is paused', () => {
    it('should pass over its rows, say what is paused, and hand them out on resume', async () => {
      const queue = await queueWith([
        { key: 'a1', task: 'a' },
        { key: 'b1', task: 'b' },
        { key: 'b2', task: 'b' },
      ]);
      const other = await queueWith([{ key: 'x1', task: 'a' }]);
      expect(await queue.pause('a')).toBe(true);
      expect(await queue.pause('a'), 'pausing what is paused').toBe(false);
      expect(await queue.paused()).toEqual({ queue: false, tasks: ['a'] });
      expect(keys(await queue.claim('w', 1, 30_000))).toEqual(['b1']);
      expect(keys(await other.claim('w', 10, 30_000)), 'another queue is not paused').toEqual(['x1']);
      expect(await queue.pause()).toBe(true);
      expect(await queue.paused()).toEqual({ queue: true, tasks: ['a'] });
      expect(await queue.claim('w', 10, 30_000)).toEqual([]);
      expect(await queue.resume()).toBe(true);
      expect(keys(await queue.claim('w', 10, 30_000)), 'a task paused on its own stays paused').toEqual([
        'b2',
      ]);
      expect(await queue.resume('a')).toBe(true);
      expect(await queue.resume('a'), 'resuming what runs').toBe(false);
      expect(await queue.paused()).toEqual({ queue: false, tasks: [] });
      expect(keys(await queue.claim('w', 10, 30_000))).toEqual(['a1']);
    });

    it('should refuse a task name that is not one, in SQL and on the backend', async () => {
      const queue = new QueueClient(transport, `flow${++count}`);
      await expect(queue.pause('')).rejects.toThrow(/p_task must be a task name or null/);
      const backend = new PostgresQueueBackend({
        connection: database.pool,
        schema: database.schema,
        worker: false,
      });
      try {
        await expect(backend.pause('')).rejects.toThrow(
          /\[au\] \[postgres-queue\] pause: `task` must be a task name, or left out for the whole queue; got ""/,
        );
        await expect(backend.resume(42 as never)).rejects.toThrow(TypeError);
      } finally {
        await backend.close();
      }
    });
  });

  describe('when a group is malformed', () => {
    it('should refuse the enqueue', async () => {
      await expect(queueWith([{ key: 'bad', concurrencyKey: 't:g', concurrencyLimit: 0 }])).rejects.toThrow(
        /au_results_flow_check/,
      );
      await expect(queueWith([{ key: 'bad2', rateKey: 't', rateLimit: 2 }])).rejects.toThrow(
        /au_results_flow_check/,
      );
    });
  });
});
