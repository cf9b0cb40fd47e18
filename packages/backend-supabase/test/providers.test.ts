import { fileURLToPath } from 'node:url';
import { ConfigError, configFromEnv, submitTask } from '@au/core';
import { registerBackendProvider, registerStoreProvider } from '@au/core/kit';
import { SupabaseStore, storeProvider } from '@au/store-supabase';
import {
  collectingLogger,
  conformanceTasks,
  conformanceTasksUrl,
  postgresUrl,
  requireService,
} from '@au/testing';
import { type PostgrestEmulator, startPostgrestEmulator } from '@au/testing/postgrest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backendProvider,
  PostgresQueueBackend,
  SupabaseQueueBackend,
  startSupabaseWorker,
} from '../src/index';
import { startTcpProxy } from './fixtures/tcp-proxy';
import { freshSchema } from './helpers';

const postgresUp = await requireService('postgres');

describe.skipIf(!postgresUp)('backendProvider', () => {
  let database: Awaited<ReturnType<typeof freshSchema>>;
  let emulator: PostgrestEmulator;
  beforeAll(async () => {
    database = await freshSchema();
    emulator = await startPostgrestEmulator({ databaseUrl: postgresUrl(), schema: database.schema });
    // configFromEnv imports these packages by name in an app; inside this workspace core
    // cannot resolve them, so they are registered as a user may.
    registerStoreProvider(storeProvider);
    registerBackendProvider(backendProvider);
  });
  afterAll(async () => {
    await emulator?.close();
    await database?.drop();
  });

  describe('when AU_BACKEND=postgres with AU_STORE=postgres://…', () => {
    it('should run AU_TASKS tasks on the store’s database and schema', async () => {
      const config = await configFromEnv({
        env: {
          AU_STORE: `${postgresUrl()}?schema=${database.schema}`,
          AU_BACKEND: 'postgres',
          AU_TASKS: fileURLToPath(conformanceTasksUrl),
          AU_QUEUE: 'provider-pg',
        },
      });
      try {
        expect(config.backend).toBeInstanceOf(PostgresQueueBackend);
        const handle = await submitTask(
          conformanceTasks.add,
          { a: 1, b: 2 },
          { store: config.store, backend: config.backend },
        );
        expect(await handle.result({ timeout: 15_000 })).toBe(3);
      } finally {
        await config.close();
      }
    });
  });

  describe('when configFromEnv is given a logger', () => {
    it('should hand it to the backend, whose worker says when its database is out of reach', async () => {
      const { hostname, port } = new URL(postgresUrl());
      const proxy = await startTcpProxy({ host: hostname, port: Number(port || 5432) });
      const logger = collectingLogger();
      const config = await configFromEnv({
        env: {
          AU_STORE: `${proxy.through(postgresUrl())}?schema=${database.schema}`,
          AU_BACKEND: 'postgres',
          AU_TASKS: fileURLToPath(conformanceTasksUrl),
          AU_QUEUE: 'provider-logger',
        },
        logger,
      });
      try {
        const handle = await submitTask(
          conformanceTasks.add,
          { a: 1, b: 2 },
          { store: config.store, backend: config.backend },
        );
        expect(await handle.result({ timeout: 15_000 })).toBe(3);
        proxy.cut();
        for (let tries = 0; tries < 100 && logger.mentioning('claim failed').length === 0; tries++) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect(logger.mentioning('claim failed', ['warn'])).not.toHaveLength(0);
      } finally {
        proxy.restore();
        await config.close();
        await proxy.close();
      }
    });
  });

  describe('when the lease timings come from the environment', () => {
    it('should queue with them, and refuse a bad one naming the variable', async () => {
      const env = {
        AU_STORE: `${postgresUrl()}?schema=${database.schema}`,
        AU_BACKEND: 'postgres',
        AU_TASKS: fileURLToPath(conformanceTasksUrl),
        AU_QUEUE: 'provider-lease',
        AU_PG_LEASE_MS: '5000',
        AU_PG_HEARTBEAT_MS: '1000',
        AU_PG_MAX_LEASE_EXPIRIES: '7',
      };
      const config = await configFromEnv({ env });
      try {
        const handle = await submitTask(
          conformanceTasks.add,
          { a: 2, b: 2 },
          { store: config.store, backend: config.backend },
        );
        expect(await handle.result({ timeout: 15_000 })).toBe(4);
        const { rows } = await database.pool.query(
          `select max_lease_expiries from ${database.schema}.au_results where key = $1`,
          [handle.key],
        );
        expect(rows[0]?.max_lease_expiries).toBe(7);
      } finally {
        await config.close();
      }
      const error = await configFromEnv({ env: { ...env, AU_PG_HEARTBEAT_MS: '6000' } }).catch(
        (caught: unknown) => caught,
      );
      expect(ConfigError.isInstance(error)).toBe(true);
      expect((error as Error).message).toMatch(/AU_PG_HEARTBEAT_MS: must be shorter than the lease/);
    });
  });

  describe('when AU_BACKEND=supabase with AU_STORE=supabase', () => {
    it('should run tasks through rpc() with SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY', async () => {
      const config = await configFromEnv({
        env: {
          AU_STORE: 'supabase',
          AU_BACKEND: 'supabase',
          SUPABASE_URL: emulator.url,
          SUPABASE_SERVICE_ROLE_KEY: emulator.serviceRoleKey,
          AU_SUPABASE_SCHEMA: database.schema,
          AU_TASKS: fileURLToPath(conformanceTasksUrl),
          AU_QUEUE: 'provider-supabase',
        },
      });
      try {
        expect(config.store).toBeInstanceOf(SupabaseStore);
        expect(config.backend).toBeInstanceOf(SupabaseQueueBackend);
        const handle = await submitTask(
          conformanceTasks.echo,
          { via: 'rpc' },
          { store: config.store, backend: config.backend },
        );
        expect(await handle.result({ timeout: 15_000 })).toEqual({ via: 'rpc' });
      } finally {
        await config.close();
      }
    });
  });

  describe('when a Supabase worker runs apart from the producer', () => {
    it('should run what a producer-only backend queued', async () => {
      const { createSupabaseRpcClient } = await import('@au/store-supabase');
      const client = createSupabaseRpcClient({
        url: emulator.url,
        key: emulator.serviceRoleKey,
        schema: database.schema,
      });
      const store = new SupabaseStore({ client, schema: database.schema });
      const producer = new SupabaseQueueBackend({
        client,
        schema: database.schema,
        worker: false,
        queue: 'apart',
      });
      const handle = await submitTask(conformanceTasks.add, { a: 20, b: 22 }, { store, backend: producer });
      const worker = await startSupabaseWorker({
        client,
        schema: database.schema,
        tasks: [conformanceTasksUrl],
        queue: 'apart',
        pollingInterval: 100,
      });
      try {
        expect(await handle.result({ timeout: 15_000 })).toBe(42);
      } finally {
        await worker.close();
        await producer.close();
        await store.close();
      }
    });
  });
});
