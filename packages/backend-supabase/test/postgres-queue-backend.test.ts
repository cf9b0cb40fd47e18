import { PostgresStore } from '@au/store-supabase';
import { conformanceTasksUrl, postgresUrl, requireService, testBackend } from '@au/testing';
import { afterAll, beforeAll, describe } from 'vitest';
import { PostgresQueueBackend } from '../src/index';
import { startTcpProxy, type TcpProxy } from './fixtures/tcp-proxy';
import { freshSchema } from './helpers';

const postgresUp = await requireService('postgres');

describe.skipIf(!postgresUp)('PostgresQueueBackend', () => {
  let database: Awaited<ReturnType<typeof freshSchema>>;
  /** The backends reach PostgreSQL through it: cutting it is a real outage of their queue and store. */
  let proxy: TcpProxy;
  let queues = 0;
  beforeAll(async () => {
    database = await freshSchema();
    const { hostname, port } = new URL(postgresUrl());
    proxy = await startTcpProxy({ host: hostname, port: Number(port || 5432) });
  });
  afterAll(async () => {
    await proxy?.close();
    await database?.drop();
  });

  testBackend(
    'PostgresQueueBackend',
    // No `store`: the backend's own store over the proxied connection and the same schema,
    // which is the test's store by id (bind checks it), so the outage reaches its writes.
    ({ concurrency, logger, maxQueued }) =>
      new PostgresQueueBackend({
        maxQueued,
        connection: proxy.through(postgresUrl()),
        schema: database.schema,
        tasks: [conformanceTasksUrl],
        queue: `q${++queues}`,
        pollingInterval: 200,
        ...(logger === undefined ? {} : { logger }),
        ...(concurrency === undefined ? {} : { maxConcurrentTasks: concurrency }),
      }),
    {
      makeStore: async () => {
        const store = new PostgresStore({ connection: database.pool, schema: database.schema, watch: true });
        await store.ready();
        return store;
      },
      outage: { begin: () => proxy.cut(), end: () => proxy.restore() },
      producerProcess: (backend) => ({
        entry: new URL('./fixtures/conformance-producer.ts', import.meta.url),
        args: [postgresUrl(), database.schema, (backend as PostgresQueueBackend).queue.queue],
        execArgv: ['--conditions=@au/source', '--import', 'tsx'],
      }),
    },
  );
});
