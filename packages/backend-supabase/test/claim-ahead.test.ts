import { jsonCodec, NO_RETRY } from '@au/core';
import { launchMany } from '@au/core/kit';
import { PostgresStore } from '@au/store-supabase';
import { conformanceTasks, requireService } from '@au/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresQueueBackend } from '../src/index';
import { freshSchema } from './helpers';

const postgresUp = await requireService('postgres');

describe.skipIf(!postgresUp)('PostgresQueueBackend claiming ahead', () => {
  let database: Awaited<ReturnType<typeof freshSchema>>;
  beforeAll(async () => {
    database = await freshSchema();
  });
  afterAll(async () => {
    await database?.drop();
  });

  describe('when rows claimed ahead wait longer than a heartbeat interval for a slot', () => {
    it('should give them back uncounted, and still run every computation once', async () => {
      const store = new PostgresStore({ connection: database.pool, schema: database.schema });
      const producer = new PostgresQueueBackend({
        connection: database.pool,
        schema: database.schema,
        worker: false,
        queue: 'ahead',
      });
      const settings = { store, backend: producer, codec: jsonCodec, retry: NO_RETRY, middleware: [] };
      // Queued before any worker starts: the first claim comes back full (a backlog).
      const launched = await launchMany(
        conformanceTasks.sleep,
        Array.from({ length: 6 }, () => ({ ms: 400, steps: 1 })),
        settings,
      );
      const worker = new PostgresQueueBackend({
        connection: database.pool,
        schema: database.schema,
        tasks: [conformanceTasks.sleep],
        queue: 'ahead',
        maxConcurrentTasks: 2,
        heartbeatInterval: 100,
        leaseMs: 5000,
        pollingInterval: 50,
      });
      const releases: string[] = [];
      const release = worker.queue.release.bind(worker.queue);
      worker.queue.release = (task, delayMs) => {
        releases.push(task.key);
        return release(task, delayMs);
      };
      try {
        const handles = launched.map(({ key }) => key);
        const deadline = Date.now() + 15_000;
        let records = await Promise.all(handles.map((key) => store.get(key)));
        while (records.some((record) => record?.status !== 'completed') && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          records = await Promise.all(handles.map((key) => store.get(key)));
        }
        expect(records.map((record) => record?.status)).toEqual(Array(6).fill('completed'));
        expect(
          releases.length,
          'rows claimed ahead were given back while the slots were busy',
        ).toBeGreaterThan(0);
        expect(
          records.map((record) => record?.attempt),
          'a give-back does not count an attempt',
        ).toEqual(Array(6).fill(1));
        const { rows } = await database.pool.query(
          `select attempts, lease_expiries from ${database.schema}.au_tasks where queue = 'ahead'`,
        );
        expect(rows).toEqual(Array(6).fill({ attempts: 1, lease_expiries: 0 }));
      } finally {
        await worker.close();
        await producer.close();
        await store.close();
      }
    });
  });
});
