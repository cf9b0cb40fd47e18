import { StoreMismatchError, submitTask } from '@au/core';
import { applyMigration, PostgresStore } from '@au/store-supabase';
import { conformanceTasks, conformanceTasksUrl, postgresUrl, requireService } from '@au/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresQueueBackend, startPostgresWorker } from '../src/index';
import { freshSchema } from './helpers';

const postgresUp = await requireService('postgres');

describe.skipIf(!postgresUp)('PostgresQueueBackend store binding', () => {
  let database: Awaited<ReturnType<typeof freshSchema>>;
  /** A second schema: another store, whose records the queue's workers never read. */
  let otherSchema: string;
  beforeAll(async () => {
    database = await freshSchema();
    otherSchema = `${database.schema}_other`;
    await applyMigration(database.pool, { schema: otherSchema });
  });
  afterAll(async () => {
    await database?.pool.query(`drop schema if exists ${otherSchema} cascade`);
    await database?.drop();
  });

  describe('when a worker starts over another store than the queue’s producers', () => {
    it('should refuse to start with StoreMismatchError', async () => {
      const foreign = new PostgresStore({ connection: database.pool, schema: otherSchema });
      const producer = new PostgresQueueBackend({
        connection: database.pool,
        schema: database.schema,
        store: foreign,
        worker: false,
        queue: 'producer-first',
      });
      try {
        // The producer binds the queue to its store at its first launch.
        await submitTask(conformanceTasks.add, { a: 1, b: 2 }, { store: foreign, backend: producer });
        const error = await startPostgresWorker({
          connection: database.pool,
          schema: database.schema,
          tasks: [conformanceTasksUrl],
          queue: 'producer-first',
        }).catch((caught: unknown) => caught);
        expect(StoreMismatchError.isInstance(error)).toBe(true);
        expect((error as StoreMismatchError).bound).toBe(await foreign.identify());
      } finally {
        await producer.close();
        await foreign.close();
      }
    });
  });

  describe('when a producer launches over another store than the queue’s workers', () => {
    it('should refuse the first launch with StoreMismatchError and queue nothing', async () => {
      const worker = await startPostgresWorker({
        connection: database.pool,
        schema: database.schema,
        tasks: [conformanceTasksUrl],
        queue: 'worker-first',
      });
      const foreign = new PostgresStore({ connection: database.pool, schema: otherSchema });
      const producer = new PostgresQueueBackend({
        connection: database.pool,
        schema: database.schema,
        store: foreign,
        worker: false,
        queue: 'worker-first',
      });
      try {
        const error = await submitTask(
          conformanceTasks.add,
          { a: 1, b: 2 },
          { store: foreign, backend: producer },
        ).catch((caught: unknown) => caught);
        expect(StoreMismatchError.isInstance(error)).toBe(true);
        expect(await producer.queue.stats()).toEqual({});
      } finally {
        await producer.close();
        await worker.close();
        await foreign.close();
      }
    });
  });

  describe('when the producer and the worker reach one schema by different connections', () => {
    it('should see one store (the schema’s id) and run the work', async () => {
      const store = new PostgresStore({ connection: database.pool, schema: database.schema });
      const producer = new PostgresQueueBackend({
        connection: database.pool,
        schema: database.schema,
        worker: false,
        queue: 'same',
      });
      const worker = await startPostgresWorker({
        connection: postgresUrl(),
        schema: database.schema,
        tasks: [conformanceTasksUrl],
        queue: 'same',
        pollingInterval: 100,
      });
      try {
        const handle = await submitTask(conformanceTasks.add, { a: 40, b: 2 }, { store, backend: producer });
        expect(await handle.result({ timeout: 10_000 })).toBe(42);
        expect(store.id).toMatch(/^au-sql:[0-9a-f-]{36}$/);
      } finally {
        await worker.close();
        await producer.close();
        await store.close();
      }
    });
  });
});
