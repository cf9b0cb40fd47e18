import { PostgresStore } from '@au/store-supabase';
import { killProducerMidLaunch, postgresUrl, requireService, unfinishedAfter } from '@au/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { startPostgresWorker } from '../src/index';
import { freshSchema } from './helpers';

const postgresUp = await requireService('postgres');
let database: Awaited<ReturnType<typeof freshSchema>> | undefined;
afterEach(async () => {
  await database?.drop();
  database = undefined;
});

describe.skipIf(!postgresUp)('PostgresQueueBackend', () => {
  describe('when a producer is killed in the middle of launches', () => {
    it.each([
      ['', {}],
      [' with keys of their own', { KEYED: '1' }],
    ])(
      'should leave no record without its queue entry%s: every computation it created runs',
      async (_, keyed) => {
        database = await freshSchema();
        const { schema } = database;
        await killProducerMidLaunch(new URL('./fixtures/producer-process.ts', import.meta.url), {
          launchFor: 300,
          args: [postgresUrl(), schema],
          env: { LAUNCHERS: '20', ...keyed },
          execArgv: ['--conditions=@au/source', '--import', 'tsx'],
        });
        const store = new PostgresStore({ connection: database.pool, schema, watch: false });
        const created = await store.count({});
        expect(created).toBeGreaterThan(20);
        const worker = await startPostgresWorker({
          connection: postgresUrl(),
          schema,
          tasks: [new URL('./fixtures/chaos-tasks.ts', import.meta.url)],
          maxConcurrentTasks: 32,
          pollingInterval: 100,
        });
        try {
          // Every record the producer created has its queue entry: the worker ends them all.
          expect(await unfinishedAfter(store, 30_000)).toBe(0);
          expect(await store.count({ status: 'completed' })).toBe(created);
        } finally {
          await worker.close({ timeout: 2000 });
          await store.close();
        }
      },
      60_000,
    );
  });
});
