import { postgresUrl, requireService, testStore } from '@au/testing';
import { type PostgrestEmulator, startPostgrestEmulator } from '@au/testing/postgrest';
import { createClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createSupabaseRpcClient, MigrationMissingError, PermissionError, SupabaseStore } from '../src/index';
import { freshSchema } from './helpers';

const postgresUp = await requireService('postgres');

describe.skipIf(!postgresUp)('SupabaseStore', () => {
  let database: Awaited<ReturnType<typeof freshSchema>>;
  let emulator: PostgrestEmulator;
  beforeAll(async () => {
    database = await freshSchema();
    emulator = await startPostgrestEmulator({ databaseUrl: postgresUrl(), schema: database.schema });
  });
  afterAll(async () => {
    await emulator?.close();
    await database?.drop();
  });

  const supabase = (key: string) =>
    createClient(emulator.url, key, {
      db: { schema: database.schema },
      auth: { persistSession: false, autoRefreshToken: false },
      realtime: { transport: WebSocket as never },
    });

  testStore(
    'SupabaseStore (supabase-js createClient)',
    () => new SupabaseStore({ client: supabase(emulator.serviceRoleKey), schema: database.schema }),
    {
      sharedNamespace: true,
    },
  );

  describe('when given a bare PostgrestClient', () => {
    it('should create, update and read a record', async () => {
      const store = new SupabaseStore({
        client: createSupabaseRpcClient({
          url: emulator.url,
          key: emulator.serviceRoleKey,
          schema: database.schema,
        }),
        schema: database.schema,
      });
      await store.create({
        key: 'bare.1',
        task: 't',
        status: 'pending',
        attempt: 0,
        maxAttempts: 1,
        createdAt: 7,
      });
      const running = await store.update(
        'bare.1',
        { status: 'running', attempt: 1 },
        { ifStatus: ['pending'] },
      );
      expect(running).toMatchObject({ status: 'running', attempt: 1 });
      expect(await store.update('bare.1', { status: 'running' }, { ifStatus: ['pending'] })).toBeUndefined();
      expect(await store.get('bare.1')).toEqual(running);
      await store.close();
    });
  });

  describe('when the key is the anon key', () => {
    it('should say that the key lacks the service role', async () => {
      const store = new SupabaseStore({ client: supabase(emulator.anonKey), schema: database.schema });
      const error = await store.get('x').catch((caught: unknown) => caught);
      expect(PermissionError.isInstance(error)).toBe(true);
      expect((error as Error).message).toMatch(/this key lacks the service role/);
      await store.close();
    });
  });

  describe('when the migration is not applied', () => {
    it('should say so (PGRST202)', async () => {
      const other = await startPostgrestEmulator({ databaseUrl: postgresUrl(), schema: 'public_missing_au' });
      try {
        const client = createClient(other.url, other.serviceRoleKey, {
          db: { schema: 'public_missing_au' },
          auth: { persistSession: false },
          realtime: { transport: WebSocket as never },
        });
        const store = new SupabaseStore({ client, schema: 'public_missing_au' });
        const error = await store.get('x').catch((caught: unknown) => caught);
        expect(MigrationMissingError.isInstance(error)).toBe(true);
        expect((error as Error).message).toMatch(
          /the au migration is not applied \(or the schema cache is stale\)/,
        );
      } finally {
        await other.close();
      }
    });
  });

  describe('when the network fails', () => {
    it('should retry an idempotent read and succeed', async () => {
      let failures = 2;
      const real = supabase(emulator.serviceRoleKey);
      const flaky = {
        rpc: (fn: string, args?: Record<string, unknown>) => {
          if (failures-- > 0)
            return Promise.resolve({
              data: null,
              error: { message: 'TypeError: fetch failed', code: '' },
              status: 0,
            });
          return real.rpc(fn, args);
        },
      };
      const store = new SupabaseStore({ client: flaky, schema: database.schema });
      expect(await store.get('never.there')).toBeUndefined();
      expect(failures).toBe(-1);
      await store.close();
    });

    it('should not retry a conditional update', async () => {
      let calls = 0;
      const flaky = {
        rpc: () => {
          calls += 1;
          return Promise.resolve({
            data: null,
            error: { message: 'TypeError: fetch failed', code: '' },
            status: 0,
          });
        },
      };
      const store = new SupabaseStore({ client: flaky, schema: database.schema });
      await expect(store.update('k', { progress: 1 })).rejects.toThrow(/fetch failed/);
      expect(calls).toBe(1);
      await store.close();
    });
  });
});
