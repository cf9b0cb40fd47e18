import { submitTask } from '@au/core';
import { PostgresStore } from '@au/store-supabase';
import { conformanceTasks, conformanceTasksUrl, requireService } from '@au/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresQueueBackend, startPostgresWorker } from '../src/index';
import { freshSchema } from './helpers';

const postgresUp = await requireService('postgres');

describe.skipIf(!postgresUp)('PostgresQueueBackend cancel', () => {
  let database: Awaited<ReturnType<typeof freshSchema>>;
  beforeAll(async () => {
    database = await freshSchema();
  });
  afterAll(async () => {
    await database?.drop();
  });

  describe('when the producer is not the process running the task', () => {
    it('should abort the task at the worker’s next heartbeat', async () => {
      const store = new PostgresStore({ connection: database.pool, schema: database.schema });
      const producer = new PostgresQueueBackend({
        connection: database.pool,
        schema: database.schema,
        worker: false,
        queue: 'apart',
      });
      const worker = await startPostgresWorker({
        connection: database.pool,
        schema: database.schema,
        tasks: [conformanceTasksUrl],
        queue: 'apart',
        leaseMs: 3000,
        heartbeatInterval: 100,
      });
      try {
        const handle = await submitTask(conformanceTasks.sleep, { ms: 30_000 }, { store, backend: producer });
        for (let tries = 0; (await handle.status()) !== 'running' && tries < 200; tries++) {
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        expect(worker.backend.worker?.runningCount).toBe(1);
        expect(await handle.cancel('stop it')).toBe(true);
        for (let tries = 0; (worker.backend.worker?.runningCount ?? 0) > 0 && tries < 200; tries++) {
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        expect(worker.backend.worker?.runningCount, 'the worker let go of the task').toBe(0);
        expect(await producer.queue.stats()).toEqual({ cancelled: 1 });
        expect((await handle.record()).status).toBe('cancelled');
      } finally {
        await worker.close({ timeout: 1000 });
        await producer.close();
        await store.close();
      }
    });
  });
});
