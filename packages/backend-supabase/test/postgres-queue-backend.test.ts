import { PostgresStore } from '@au/store-supabase';
import { conformanceTasksUrl, requireService, testBackend } from '@au/testing';
import { afterAll, beforeAll, describe } from 'vitest';
import { PostgresQueueBackend } from '../src/index';
import { freshSchema } from './helpers';

const postgresUp = await requireService('postgres');

describe.skipIf(!postgresUp)('PostgresQueueBackend', () => {
  let database: Awaited<ReturnType<typeof freshSchema>>;
  let queues = 0;
  beforeAll(async () => {
    database = await freshSchema();
  });
  afterAll(async () => {
    await database?.drop();
  });

  testBackend(
    'PostgresQueueBackend',
    ({ store, concurrency }) =>
      new PostgresQueueBackend({
        connection: database.pool,
        schema: database.schema,
        store,
        tasks: [conformanceTasksUrl],
        queue: `q${++queues}`,
        pollingInterval: 200,
        ...(concurrency === undefined ? {} : { maxConcurrentTasks: concurrency }),
      }),
    {
      makeStore: async () => {
        const store = new PostgresStore({ connection: database.pool, schema: database.schema, watch: true });
        await store.ready();
        return store;
      },
    },
  );
});
