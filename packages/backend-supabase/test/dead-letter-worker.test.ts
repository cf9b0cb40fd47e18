import { fork } from 'node:child_process';
import { asyncCompute, type ComputationRecord } from '@au/core';
import { PostgresStore } from '@au/store-supabase';
import { conformanceTasks, conformanceTasksUrl, postgresUrl, requireService } from '@au/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresQueueBackend, type QueueWorkerHandle, startPostgresWorker } from '../src/index';
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

  describe('when the queue gives up on a computation whose workers keep dying (maxLeaseExpiries 1)', () => {
    it('should announce it once, through the hook of the worker whose claim failed it', {
      timeout: 20_000,
    }, async () => {
      const producer = new PostgresQueueBackend({
        connection: postgresUrl(),
        schema: database.schema,
        worker: false,
        maxLeaseExpiries: 1,
      });
      const store = new PostgresStore({ connection: database.pool, schema: database.schema });
      const workers: QueueWorkerHandle[] = [];
      try {
        const handle = await asyncCompute(conformanceTasks.sleep, { store, backend: producer })({
          ms: 60_000,
        });
        const attemptRuns = async (attempt: number) => {
          for (let tries = 0; tries < 400; tries++) {
            const record = await store.get(handle.key);
            if (record?.status === 'running' && record.attempt === attempt) return;
            await new Promise((resolve) => setTimeout(resolve, 25));
          }
          throw new Error(`[test] attempt ${attempt} did not start`);
        };
        // Two worker processes in turn take it and are SIGKILLed mid-run: the first lapse
        // re-queues it, the second spends its lease expiries.
        for (const attempt of [1, 2]) {
          const child = fork(
            new URL('./fixtures/conformance-worker.ts', import.meta.url),
            [postgresUrl(), database.schema],
            {
              execArgv: ['--conditions=@au/source', '--import', 'tsx'],
              stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
            },
          );
          const exited = new Promise((resolve) => child.once('exit', resolve));
          try {
            await attemptRuns(attempt);
          } finally {
            child.kill('SIGKILL');
            await exited;
          }
        }
        // Two workers with the hook race to claim: the one whose claim sweeps the lapsed
        // lease fails the record and announces it; the other never does.
        const seen: { worker: number; record: ComputationRecord }[] = [];
        for (const worker of [0, 1]) {
          workers.push(
            await startPostgresWorker({
              connection: postgresUrl(),
              schema: database.schema,
              tasks: [conformanceTasksUrl],
              pollingInterval: 50,
              onDeadLetter: (record) => {
                seen.push({ worker, record });
              },
            }),
          );
        }
        const error = await handle.result({ timeout: 10_000 }).catch((caught: unknown) => caught);
        expect((error as Error).name).toBe('ComputationFailedError');
        for (let tries = 0; seen.length === 0 && tries < 200; tries++) {
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        // A few more claims by both workers: none announces it again.
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(seen).toHaveLength(1);
        expect(seen[0]!.record).toMatchObject({
          key: handle.key,
          status: 'failed',
          attempt: 2,
          error: { name: 'LeaseExpiredError' },
        });
        expect(seen[0]!.record).toEqual(await store.get(handle.key));
      } finally {
        await Promise.all(workers.map((worker) => worker.close({ timeout: 0 })));
        await producer.close({ timeout: 0 });
        await store.close();
      }
    });
  });
});
