import { asyncCompute, type ComputationRecord } from '@au/core';
import { PostgresStore } from '@au/store-supabase';
import { conformanceTasks, conformanceTasksUrl, postgresUrl, requireService } from '@au/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresQueueBackend, startPostgresWorker } from '../src/index';
import { freshSchema } from './helpers';

const postgresUp = await requireService('postgres');

describe.skipIf(!postgresUp)('a Postgres queue worker with onDeadLetter', () => {
  let database: Awaited<ReturnType<typeof freshSchema>>;
  beforeAll(async () => {
    database = await freshSchema();
  });
  afterAll(async () => {
    await database?.drop();
  });

  describe('when work launched elsewhere fails for good on it', () => {
    it('should announce it once where it ran, then let the producer retry it under its key', async () => {
      const seen: ComputationRecord[] = [];
      const worker = await startPostgresWorker({
        connection: postgresUrl(),
        schema: database.schema,
        tasks: [conformanceTasksUrl],
        pollingInterval: 100,
        onDeadLetter: (record) => {
          seen.push(record);
        },
      });
      // A producer with no worker of its own: the worker above runs its work with its own middleware.
      const producer = new PostgresQueueBackend({
        connection: postgresUrl(),
        schema: database.schema,
        worker: false,
      });
      const store = new PostgresStore({ connection: database.pool, schema: database.schema });
      try {
        const fail = asyncCompute(conformanceTasks.fail, { store, backend: producer });
        const handle = await fail({ message: 'dead on the worker' });
        await expect(handle.result({ timeout: 10_000 })).rejects.toThrow('dead on the worker');
        for (let tries = 0; seen.length === 0 && tries < 200; tries++) {
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        expect(seen.map((record) => [record.key, record.status, record.error?.message])).toEqual([
          [handle.key, 'failed', 'dead on the worker'],
        ]);

        const reopened = await handle.retry();
        expect(reopened.history).toHaveLength(1);
        await expect(handle.result({ timeout: 10_000 })).rejects.toThrow('dead on the worker');
        expect((await handle.record()).history).toHaveLength(1);
      } finally {
        await producer.close({ timeout: 0 });
        await worker.close({ timeout: 0 });
        await store.close();
      }
    });
  });
});
