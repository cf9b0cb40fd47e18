import { PgTransport, PostgresStore } from '@au/store-supabase';
import { requireService } from '@au/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueClient } from '../src/index';
import { freshSchema } from './helpers';

const postgresUp = await requireService('postgres');

describe.skipIf(!postgresUp)('the queue SQL functions', () => {
  let database: Awaited<ReturnType<typeof freshSchema>>;
  let queue: QueueClient;
  let store: PostgresStore;
  let count = 0;
  beforeAll(async () => {
    database = await freshSchema();
    store = new PostgresStore({ connection: database.pool, schema: database.schema });
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });
  const fresh = async (maxAttempts = 1) => {
    queue = new QueueClient(new PgTransport(database.pool, { schema: database.schema }), `sql${++count}`);
    const key = `sql.${count}`;
    await store.create({ key, task: 't', status: 'pending', attempt: 0, maxAttempts, createdAt: Date.now() });
    await queue.enqueue({ key, task: 't', priority: 0, maxAttempts, maxLeaseExpiries: 3 });
    return key;
  };
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  describe('when enqueueing twice with one key', () => {
    it('should keep one active row (dedupe)', async () => {
      const key = await fresh();
      await queue.enqueue({ key, task: 't', priority: 0, maxAttempts: 1, maxLeaseExpiries: 3 });
      expect(await queue.stats()).toEqual({ queued: 1 });
    });
  });

  describe('when a lease expires', () => {
    it('should give the row to the next claim and refuse the stale worker', async () => {
      const key = await fresh();
      const [first] = await queue.claim('a', 5, 100);
      expect(first?.attempts).toBe(1);
      await sleep(200);
      const [second] = await queue.claim('b', 5, 10_000);
      expect(second?.key).toBe(key);
      expect(second?.attempts).toBe(2);
      expect(second?.lease_token).not.toBe(first?.lease_token);
      expect(await queue.heartbeat(first!, 1000)).toBe('lost');
      expect(await queue.complete(first!)).toBe(false);
      expect(await queue.fail(first!, { name: 'E', message: 'late' })).toBe('refused');
      const staleWrite = await store.updateWithLease(
        key,
        { status: 'running', attempt: 1 },
        {},
        { taskId: first!.id, token: first!.lease_token },
      );
      expect(staleWrite, 'a write fenced by a lost lease is refused').toBeUndefined();
      expect(await queue.complete(second!)).toBe(true);
      expect(await queue.complete(second!), 'a retried complete agrees').toBe(true);
    });

    it('should fail the row and its record once the lease expiries are spent', async () => {
      const key = `sql.spent.${++count}`;
      queue = new QueueClient(new PgTransport(database.pool, { schema: database.schema }), `sql${count}`);
      await store.create({ key, task: 't', status: 'running', attempt: 1, maxAttempts: 1, createdAt: 1 });
      await queue.enqueue({ key, task: 't', priority: 0, maxAttempts: 1, maxLeaseExpiries: 0 });
      await queue.claim('a', 1, 50);
      await sleep(120);
      const claimId = crypto.randomUUID();
      const batch = await queue.claimBatch('b', 1, 50, { claimId });
      expect(batch.rows).toEqual([]);
      expect(await queue.stats()).toEqual({ failed: 1 });
      const record = await store.get(key);
      expect(record).toMatchObject({ status: 'failed', error: { name: 'LeaseExpiredError' } });
      expect(batch.deadLetters, 'the claim that failed it returns it, to announce').toEqual([record]);
      expect(
        (await queue.claimBatch('b', 1, 50, { claimId })).deadLetters,
        'the same claim tried again (its reply lost) returns it again',
      ).toEqual([record]);
      expect(await queue.claimBatch('c', 1, 50), 'no other claim returns it').toEqual({
        rows: [],
        deadLetters: [],
      });
    });
  });

  describe('when an attempt fails', () => {
    it('should re-queue with the backoff computed in SQL while attempts remain', async () => {
      const key = `sql.backoff.${++count}`;
      queue = new QueueClient(new PgTransport(database.pool, { schema: database.schema }), `sql${count}`);
      await store.create({ key, task: 't', status: 'pending', attempt: 0, maxAttempts: 2, createdAt: 1 });
      await queue.enqueue({
        key,
        task: 't',
        priority: 0,
        maxAttempts: 2,
        backoff: { kind: 'fixed', delay: 300 },
        maxLeaseExpiries: 3,
      });
      const [row] = await queue.claim('a', 1, 10_000);
      expect(await queue.fail(row!, { name: 'E', message: 'first' })).toBe('retry');
      expect(await queue.claim('a', 1, 10_000), 'not before the backoff').toEqual([]);
      await sleep(400);
      const [again] = await queue.claim('a', 1, 10_000);
      expect(again?.attempts).toBe(2);
      expect(await queue.fail(again!, { name: 'E', message: 'second' })).toBe('failed');
    });
  });

  describe('when cancelled', () => {
    it('should end a queued row and flag a running one for its heartbeat', async () => {
      const queuedKey = await fresh();
      expect(await queue.cancel(queuedKey)).toBe(true);
      expect(await queue.claim('a', 1, 10_000)).toEqual([]);
      const runningKey = await fresh();
      const [row] = await queue.claim('a', 1, 10_000);
      expect(await queue.cancel(runningKey, 'stop')).toBe(true);
      expect(await queue.heartbeat(row!, 10_000)).toBe('cancel');
      expect((await store.get(runningKey))?.status).toBe('cancelled');
    });

    it('should write the fields core writes for a CancelledError, so a handle reads the reason', async () => {
      const key = await fresh();
      expect(await queue.cancel(key, 'not needed')).toBe(true);
      expect((await store.get(key))?.error).toEqual({
        name: 'CancelledError',
        message: `[au] computation "${key}" was cancelled: not needed`,
        code: 'AU_CANCELLED',
        key,
        reason: 'not needed',
      });
      const bare = await fresh();
      await queue.cancel(bare);
      expect((await store.get(bare))?.error).toEqual({
        name: 'CancelledError',
        message: `[au] computation "${bare}" was cancelled`,
        code: 'AU_CANCELLED',
        key: bare,
      });
    });
  });

  describe('when a claim is made again after its reply was lost', () => {
    it('should answer with the rows it took, and take new ones under a new id only', async () => {
      const first = await fresh();
      const claimId = crypto.randomUUID();
      const [taken] = await queue.claim('a', 5, 10_000, { claimId });
      expect(taken?.key).toBe(first);
      const second = `${first}.second`;
      await queue.enqueue({ key: second, task: 't', priority: 0, maxAttempts: 1, maxLeaseExpiries: 3 });
      const again = await queue.claim('a', 5, 10_000, { claimId });
      expect(again.map((row) => [row.key, row.lease_token, row.attempts])).toEqual([
        [first, taken!.lease_token, 1],
      ]);
      const next = await queue.claim('a', 5, 10_000, { claimId: crypto.randomUUID() });
      expect(next.map((row) => row.key)).toEqual([second]);
    });

    it('should drop the claim id of a row once it stops running, so the claim id index keeps to running rows', async () => {
      const completed = await fresh();
      const claimId = crypto.randomUUID();
      const [taken] = await queue.claim('a', 5, 10_000, { claimId });
      const claimIdOf = async (key: string) => {
        const { rows } = await database.pool.query<{ claim_id: string | null }>(
          `select claim_id from ${database.schema}.au_results where key = $1`,
          [key],
        );
        return rows[0]!.claim_id;
      };
      expect(await claimIdOf(completed), 'while it runs').toBe(claimId);
      expect(await queue.complete(taken!, 'completed')).toBe(true);
      expect(await claimIdOf(completed), 'completed').toBeNull();
      expect(await queue.claim('a', 5, 10_000, { claimId }), 'the same claim made again').toEqual([]);

      const failed = await fresh();
      const [running] = await queue.claim('b', 1, 10_000, { claimId: crypto.randomUUID() });
      expect(await queue.fail(running!, { name: 'Error', message: 'boom' }, false)).toBe('failed');
      expect(await claimIdOf(failed), 'failed').toBeNull();
    });
  });

  describe('when a delivery is given back', () => {
    it('should queue it again without counting the attempt, and refuse a stale lease', async () => {
      const key = await fresh(2);
      const [row] = await queue.claim('a', 1, 10_000);
      expect(row?.attempts).toBe(1);
      expect(await queue.release(row!, 0)).toBe(true);
      expect(await queue.release(row!, 0), 'the lease went with it').toBe(false);
      const [again] = await queue.claim('b', 1, 10_000);
      expect(again?.key).toBe(key);
      expect(again?.attempts, 'the given-back delivery was not counted').toBe(1);
      expect(await queue.stats()).toEqual({ running: 1 });
    });
  });

  describe('when several rows are queued', () => {
    it('should claim higher priority first, then by run_at', async () => {
      queue = new QueueClient(new PgTransport(database.pool, { schema: database.schema }), `sql${++count}`);
      for (const [key, priority] of [
        ['p.a', 0],
        ['p.b', 5],
        ['p.c', 0],
        ['p.d', 10],
      ] as const) {
        await queue.enqueue({
          key: `${key}.${count}`,
          task: 't',
          priority,
          maxAttempts: 1,
          maxLeaseExpiries: 3,
        });
      }
      const order: string[] = [];
      for (let index = 0; index < 4; index++)
        order.push(...(await queue.claim('a', 1, 10_000)).map((row) => row.key));
      expect(order).toEqual(['p.d', 'p.b', 'p.a', 'p.c'].map((key) => `${key}.${count}`));
    });
  });
});
