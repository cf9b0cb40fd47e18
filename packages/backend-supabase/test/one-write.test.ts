import { type ComputationRecord, defineTask, type Invocation, submitTask } from '@au/core';
import { DatabaseUnavailableError, PgTransport, PostgresStore } from '@au/store-supabase';
import { postgresUrl, requireService } from '@au/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClaimedTask, PostgresQueueBackend, QueueClient } from '../src/index';
import { freshSchema } from './helpers';

const postgresUp = await requireService('postgres');

/** A new record of task `t`, waiting to run. */
const pending = (key: string): ComputationRecord => ({
  key,
  task: 't',
  status: 'pending',
  attempt: 0,
  maxAttempts: 1,
  createdAt: 1,
});

/**
 * The Postgres queue's folded writes (docs/lifecycle.md, "Fewer writes"): a launch that
 * creates and queues in one statement, and a claim whose write goes with the task's next.
 */
describe.skipIf(!postgresUp)('one write where two were', () => {
  let database: Awaited<ReturnType<typeof freshSchema>>;
  let store: PostgresStore;
  let queue: QueueClient;
  let count = 0;
  /** Statements sent through the store's transport, by SQL function. */
  let calls: string[] = [];
  /** Makes the next call of `fn` fail as an outage would, before (`lost: false`) or after it ran. */
  let failNext: { fn: string; landed: boolean } | undefined;

  beforeAll(async () => {
    database = await freshSchema();
    store = new PostgresStore({ connection: database.pool, schema: database.schema });
    const transport = store.transport as { call: (fn: string, ...rest: unknown[]) => Promise<unknown> };
    const call = transport.call.bind(transport);
    transport.call = async (fn, ...rest) => {
      calls.push(fn);
      const failing = failNext?.fn === fn ? failNext : undefined;
      if (failing !== undefined) {
        failNext = undefined;
        if (failing.landed) await call(fn, ...rest);
        throw new DatabaseUnavailableError({ fn, component: 'test', cause: new Error('connection reset') });
      }
      return call(fn, ...rest);
    };
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });

  /** A computation launched through `au_launch_many` and claimed by a worker: its row and its leased store. */
  const claimed = async () => {
    queue = new QueueClient(new PgTransport(database.pool, { schema: database.schema }), `one${++count}`);
    const key = `one.${count}`;
    const record = pending(key);
    await store.createQueued([record], queue.queue, [{ key, task: 't', priority: 0, maxAttempts: 1 }]);
    const [row] = await queue.claim('w', 1, 10_000);
    expect(row?.key, 'the launch queued the record').toBe(key);
    const leased = store.withLease({ taskId: row!.id, token: row!.lease_token }, row!.record ?? undefined);
    calls = [];
    return { key, row: row as ClaimedTask, leased };
  };
  const complete = { status: 'completed' as const, value: 42, finishedAt: 3 };

  describe('when a record is created through the queue (au_launch_many)', () => {
    it('should create it and queue it in one statement', async () => {
      queue = new QueueClient(new PgTransport(database.pool, { schema: database.schema }), 'launch');
      calls = [];
      await store.createQueued([pending('launch.1')], 'launch', [
        { key: 'launch.1', task: 't', priority: 0, maxAttempts: 1 },
      ]);
      expect(calls).toEqual(['au_launch_many']);
      expect(await queue.stats()).toEqual({ queued: 1 });
      expect((await store.get('launch.1'))?.status).toBe('pending');
    });

    it('should queue again a key whose detached entry had ended', async () => {
      queue = new QueueClient(new PgTransport(database.pool, { schema: database.schema }), 'detached');
      // An entry without a record here (its record lived in another store), run to its end.
      await queue.enqueue({ key: 'detached.1', task: 't', priority: 0, maxAttempts: 1, maxLeaseExpiries: 3 });
      const [row] = await queue.claim('w', 1, 10_000);
      expect(await queue.complete(row!)).toBe(true);
      await store.createQueued([pending('detached.1')], 'detached', [
        { key: 'detached.1', task: 't', priority: 0, maxAttempts: 1 },
      ]);
      const [again] = await queue.claim('w', 1, 10_000);
      expect(again?.key).toBe('detached.1');
      expect(again?.record?.status).toBe('pending');
    });

    it('should refuse a taken key and write nothing', async () => {
      queue = new QueueClient(new PgTransport(database.pool, { schema: database.schema }), 'taken');
      await store.create(pending('taken.1'));
      await expect(
        store.createQueued([pending('taken.2'), pending('taken.1')], 'taken', [
          { key: 'taken.2', task: 't', priority: 0, maxAttempts: 1 },
          { key: 'taken.1', task: 't', priority: 0, maxAttempts: 1 },
        ]),
      ).rejects.toThrow(/taken\.1/);
      expect(await store.get('taken.2')).toBeUndefined();
      expect(await queue.stats()).toEqual({});
    });
  });

  describe('when the store is in another database, under the same schema name', () => {
    it('should not create and queue there, where no worker of the queue looks', async () => {
      const other = await otherDatabase();
      const there = await freshSchema(other, database.schema);
      const elsewhere = new PostgresStore({ connection: there.pool, schema: database.schema });
      const backend = new PostgresQueueBackend({
        connection: database.pool,
        schema: database.schema,
        worker: false,
        store: elsewhere,
      });
      const invocation = (key: string) =>
        ({ key, task: 't', args: null, priority: 0, retry: { attempts: 1 } }) as unknown as Invocation;
      try {
        expect(await backend.createAndLaunch(elsewhere, [pending('far.1')], [invocation('far.1')])).toBe(
          false,
        );
        expect(await elsewhere.get('far.1')).toBeUndefined();
        expect(await backend.createAndLaunch(store, [pending('near.1')], [invocation('near.1')])).toBe(true);
        expect((await store.get('near.1'))?.status).toBe('pending');
      } finally {
        await backend.close();
        await elsewhere.close();
        await there.drop();
      }
    });

    it("should run the queue's work and write its records there, unfenced by the queue's leases", async () => {
      const other = await otherDatabase();
      const there = await freshSchema(other, database.schema);
      const elsewhere = new PostgresStore({ connection: there.pool, schema: database.schema });
      const double = defineTask({ name: 'one-write.double', run: (n: number) => n * 2 });
      const backend = new PostgresQueueBackend({
        connection: database.pool,
        schema: database.schema,
        queue: `far${++count}`,
        store: elsewhere,
        tasks: [double],
        pollingInterval: 50,
      });
      try {
        await backend.ready();
        const handle = await submitTask(double, 21, { store: elsewhere, backend });
        expect(await handle.result({ timeout: 10_000 })).toBe(42);
        expect(await elsewhere.get(handle.key)).toMatchObject({ status: 'completed', value: 42, attempt: 1 });
        expect(await store.get(handle.key)).toBeUndefined();
      } finally {
        await backend.close();
        await elsewhere.close();
        await there.drop();
      }
    });
  });

  describe('when a short task ends before its claim was written', () => {
    it('should write the claim and the ending as one row write, and end the queue entry', async () => {
      const { key, leased } = await claimed();
      const claim = await leased.claim(key, { now: 2 });
      expect(claim).toMatchObject({ claimed: true, record: { status: 'running', attempt: 1, startedAt: 2 } });
      const ended = await leased.update(key, complete, { ifStatus: ['running'] });
      expect(ended).toMatchObject({
        status: 'completed',
        value: 42,
        attempt: 1,
        startedAt: 2,
        finishedAt: 3,
      });
      expect(calls).toEqual(['au_result_update_many']);
      expect(leased.finishedDelivery).toBe(true);
      expect(await queue.stats()).toEqual({ completed: 1 });
    });
  });

  describe('when a cancel came after the queue claimed the row but before the claim was written', () => {
    it('should let the cancel win: the joined write is refused', async () => {
      const { key, leased } = await claimed();
      expect(await queue.cancel(key, 'stop')).toBe(true);
      // The worker claims on the record au_claim returned, which said pending.
      expect((await leased.claim(key, { now: 2 })).claimed).toBe(true);
      expect(await leased.update(key, complete, { ifStatus: ['running'] })).toBeUndefined();
      expect((await store.get(key))?.status).toBe('cancelled');
    });
  });

  describe('when the task runs on past its claim', () => {
    it('should write the claim on its own, so the record says running while the task runs', async () => {
      const { key, leased } = await claimed();
      await leased.claim(key, { now: 2 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await store.get(key)).toMatchObject({ status: 'running', attempt: 1, startedAt: 2 });
      expect(await leased.update(key, complete, { ifStatus: ['running'] })).toMatchObject({
        status: 'completed',
      });
      expect(calls, 'the claim, the read, the ending').toEqual([
        'au_result_update_many',
        'au_result_get',
        'au_result_update_many',
      ]);
    });

    it('should send the claim before a read of the record through the leased store', async () => {
      const { key, leased } = await claimed();
      await leased.claim(key, { now: 2 });
      expect(await leased.get(key)).toMatchObject({ status: 'running', attempt: 1 });
    });
  });

  describe('when the claim write fails as the database drops', () => {
    it('should send it again with the ending when it did not land', async () => {
      const { key, leased } = await claimed();
      failNext = { fn: 'au_result_update_many', landed: false };
      await leased.claim(key, { now: 2 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect((await store.get(key))?.status, 'the claim did not land').toBe('pending');
      expect(await leased.update(key, complete, { ifStatus: ['running'] })).toMatchObject({
        status: 'completed',
        attempt: 1,
      });
    });

    it('should not send it again when it landed after all (its reply was lost)', async () => {
      const { key, leased } = await claimed();
      failNext = { fn: 'au_result_update_many', landed: true };
      await leased.claim(key, { now: 2 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect((await store.get(key))?.status, 'the claim landed').toBe('running');
      calls = [];
      expect(await leased.update(key, complete, { ifStatus: ['running'] })).toMatchObject({
        status: 'completed',
        attempt: 1,
      });
      expect(calls, 'read back, then the ending alone').toEqual(['au_result_get', 'au_result_update_many']);
    });

    it('should keep the claim for the next try when the joined write fails', async () => {
      const { key, leased } = await claimed();
      await leased.claim(key, { now: 2 });
      failNext = { fn: 'au_result_update_many', landed: false };
      await expect(leased.update(key, complete, { ifStatus: ['running'] })).rejects.toThrow(
        DatabaseUnavailableError,
      );
      expect(await leased.update(key, complete, { ifStatus: ['running'] })).toMatchObject({
        status: 'completed',
        attempt: 1,
        startedAt: 2,
      });
    });
  });
});

/** The URL of a second database on the same server (created once), for stores that live apart. */
async function otherDatabase(): Promise<string> {
  const url = new URL(postgresUrl());
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    const { rowCount } = await admin.query(`select 1 from pg_database where datname = 'au_test_other'`);
    if (rowCount === 0) await admin.query('create database au_test_other').catch(() => undefined);
  } finally {
    await admin.end();
  }
  url.pathname = '/au_test_other';
  return url.toString();
}
