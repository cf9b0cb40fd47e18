import { SupabaseStore } from '@au/store-supabase';
import { conformanceTasksUrl, postgresUrl, requireService, testBackend } from '@au/testing';
import { type PostgrestEmulator, startPostgrestEmulator } from '@au/testing/postgrest';
import { createClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe } from 'vitest';
import WebSocket from 'ws';
import { SupabaseQueueBackend } from '../src/index';
import { startTcpProxy, type TcpProxy } from './fixtures/tcp-proxy';
import { freshSchema } from './helpers';

const postgresUp = await requireService('postgres');

describe.skipIf(!postgresUp)('SupabaseQueueBackend', () => {
  let database: Awaited<ReturnType<typeof freshSchema>>;
  let emulator: PostgrestEmulator;
  /** The backends reach the emulator through it: cutting it is a real outage of their queue and store. */
  let proxy: TcpProxy;
  let queues = 0;
  beforeAll(async () => {
    database = await freshSchema();
    emulator = await startPostgrestEmulator({ databaseUrl: postgresUrl(), schema: database.schema });
    const { hostname, port } = new URL(emulator.url);
    proxy = await startTcpProxy({ host: hostname, port: Number(port) });
  });
  afterAll(async () => {
    await proxy?.close();
    await emulator?.close();
    await database?.drop();
  });
  const client = (url = emulator.url) =>
    createClient(url, emulator.serviceRoleKey, {
      db: { schema: database.schema },
      auth: { persistSession: false, autoRefreshToken: false },
      realtime: { transport: WebSocket as never },
    });

  testBackend(
    'SupabaseQueueBackend (supabase-js through the PostgREST emulator)',
    // No `store`: the backend's own store through the proxy and over the same schema, which
    // is the test's store by id (bind checks it), so the outage reaches its writes.
    ({ concurrency, logger, maxQueued }) =>
      new SupabaseQueueBackend({
        maxQueued,
        client: client(proxy.through(emulator.url)),
        schema: database.schema,
        tasks: [conformanceTasksUrl],
        queue: `q${++queues}`,
        pollingInterval: 100,
        ...(logger === undefined ? {} : { logger }),
        ...(concurrency === undefined ? {} : { maxConcurrentTasks: concurrency }),
      }),
    {
      makeStore: () => new SupabaseStore({ client: client(), schema: database.schema }),
      // The emulator shares this process with 100s of polling handles: a smaller crowd.
      manyCount: 150,
      outage: { begin: () => proxy.cut(), end: () => proxy.restore() },
      producerProcess: (backend) => ({
        entry: new URL('./fixtures/supabase-conformance-producer.ts', import.meta.url),
        args: [
          emulator.url,
          emulator.serviceRoleKey,
          database.schema,
          (backend as SupabaseQueueBackend).queue.queue,
        ],
        execArgv: ['--conditions=@au/source', '--import', 'tsx'],
      }),
    },
  );
});
