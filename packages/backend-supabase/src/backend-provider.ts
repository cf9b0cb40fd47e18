import type { BackendProvider, BackendProviderContext } from '@au/core/kit';
import {
  createSupabaseRpcClient,
  PgTransport,
  SqlFunctionStore,
  SupabaseTransport,
  splitSchema,
  supabaseSettingsFromEnv,
} from '@au/store-supabase';
import { leaseSettingsFromEnv } from './lease-settings-from-env';
import { PostgresQueueBackend } from './postgres-queue-backend';
import type { QueueBackendOptions } from './queue-backend-options';
import { SupabaseQueueBackend } from './supabase-queue-backend';

/**
 * `AU_BACKEND=postgres`: the database of `AU_STORE` when it is `postgres://…` (its pool
 * is shared), else `AU_PG_URL` or `DATABASE_URL`. `AU_BACKEND=supabase`: the client of
 * an `AU_STORE=supabase` store, else SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY.
 * Workers run in the process when `AU_TASKS` names task modules; `AU_QUEUE` names the
 * queue; `AU_CONCURRENCY` sets `maxConcurrentTasks`; `AU_PG_LEASE_MS`,
 * `AU_PG_HEARTBEAT_MS` and `AU_PG_MAX_LEASE_EXPIRIES` set the lease timings.
 */
export const backendProvider: BackendProvider = {
  matches: (value) => value === 'postgres' || value === 'supabase',
  create(context) {
    const options = sharedOptions(context);
    if (context.value === 'supabase') {
      const transport = sqlStoreTransport(context);
      const client =
        transport instanceof SupabaseTransport
          ? transport.client
          : createSupabaseRpcClient(supabaseSettingsFromEnv(context.env));
      return new SupabaseQueueBackend({ ...options, client, ...schemaOf(context) });
    }
    const transport = sqlStoreTransport(context);
    if (transport instanceof PgTransport) {
      return new PostgresQueueBackend({ ...options, connection: transport.pool, schema: transport.schema });
    }
    const url = context.env.AU_PG_URL ?? context.env.DATABASE_URL;
    if (url === undefined) {
      throw new TypeError('AU_BACKEND=postgres needs AU_STORE=postgres://…, AU_PG_URL or DATABASE_URL');
    }
    const { connection, schema } = splitSchema(url, context.env.AU_PG_SCHEMA);
    return new PostgresQueueBackend({ ...options, connection, schema });
  },
};

function sharedOptions(context: BackendProviderContext): QueueBackendOptions {
  const options: QueueBackendOptions = {
    store: context.store,
    worker: context.tasks.size > 0,
    ...leaseSettingsFromEnv(context.env),
  };
  if (context.tasks.size > 0) options.tasks = context.tasks;
  if (context.concurrency !== undefined) options.maxConcurrentTasks = context.concurrency;
  if (context.maxQueued !== undefined) options.maxQueued = context.maxQueued;
  if (context.env.AU_QUEUE) options.queue = context.env.AU_QUEUE;
  if (context.middleware !== undefined) options.middleware = context.middleware;
  if (context.logger !== undefined) options.logger = context.logger;
  return options;
}

function sqlStoreTransport(context: BackendProviderContext) {
  return context.store instanceof SqlFunctionStore ? context.store.transport : undefined;
}

function schemaOf(context: BackendProviderContext): { schema?: string } {
  const transport = sqlStoreTransport(context);
  if (transport !== undefined) return { schema: transport.schema };
  const schema = context.env.AU_SUPABASE_SCHEMA;
  return schema ? { schema } : {};
}
