import { SupabaseStore } from '@au/store-supabase';
import { conformanceTasksUrl, postgresUrl, requireService, testBackend } from '@au/testing';
import { type PostgrestEmulator, startPostgrestEmulator } from '@au/testing/postgrest';
import { createClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe } from 'vitest';
import WebSocket from 'ws';
import { SupabaseQueueBackend } from '../src/index';
import { freshSchema } from './helpers';

const postgresUp = await requireService('postgres');

describe.skipIf(!postgresUp)('SupabaseQueueBackend', () => {
  let database: Awaited<ReturnType<typeof freshSchema>>;
  let emulator: PostgrestEmulator;
  let queues = 0;
  beforeAll(async () => {
    database = await freshSchema();
    emulator = await startPostgrestEmulator({ databaseUrl: postgresUrl(), schema: database.schema });
  });
  afterAll(async () => {
    await emulator?.close();
    await database?.drop();
  });
  const client = () =>
    createClient(emulator.url, emulator.serviceRoleKey, {
      db: { schema: database.schema },
      auth: { persistSession: false, autoRefreshToken: false },
      realtime: { transport: WebSocket as never },
    });

  testBackend(
    'SupabaseQueueBackend (supabase-js through the PostgREST emulator)',
    ({ store, concurrency }) =>
      new SupabaseQueueBackend({
        client: client(),
        schema: database.schema,
        store,
        tasks: [conformanceTasksUrl],
        queue: `q${++queues}`,
        pollingInterval: 100,
        ...(concurrency === undefined ? {} : { maxConcurrentTasks: concurrency }),
      }),
    {
      makeStore: () => new SupabaseStore({ client: client(), schema: database.schema }),
      // The emulator shares this process with 100s of polling handles: a smaller crowd.
      manyCount: 150,
    },
  );
});
