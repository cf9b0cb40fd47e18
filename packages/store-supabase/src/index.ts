export { runCli } from './cli';
export {
  createSupabaseRpcClient,
  type SupabaseClientOptions,
  supabaseSettingsFromEnv,
} from './create-supabase-client';
export { DatabaseUnavailableError } from './errors/database-unavailable-error';
export { MigrationMissingError } from './errors/migration-missing-error';
export { PermissionError } from './errors/permission-error';
export { RpcError } from './errors/rpc-error';
export { FencedWriteBatcher } from './fenced-writes';
export { LeasedStore } from './leased-store';
export {
  applyMigration,
  MIGRATION_FILE_NAME,
  MIGRATION_FILE_URL,
  migrationSql,
  sqlForSchema,
  wakeupChannel,
} from './migration';
export { isNetworkError, type PgQueryable, PgTransport, translatePgError } from './pg-transport';
export { PostgresLocks, type PostgresLocksOptions } from './postgres-locks';
export { PostgresStore, type PostgresStoreOptions } from './postgres-store';
export type { RpcCallOptions, RpcTransport } from './rpc-transport';
export { assertSchemaName, SCHEMA_NAME_PATTERN } from './schema-name';
export { SqlFunctionLocks } from './sql-function-locks';
export { type Lease, SqlFunctionStore } from './sql-function-store';
export { splitSchema, storeProvider } from './store-provider';
export { SupabaseLocks, type SupabaseLocksOptions } from './supabase-locks';
export { SupabaseStore, type SupabaseStoreOptions } from './supabase-store';
export { type RpcClient, type RpcResponse, SupabaseTransport, translateRpcError } from './supabase-transport';
