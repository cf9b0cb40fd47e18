export { RedisUnavailableError } from './errors/redis-unavailable-error';
export type { RedisConnection } from './redis-connection';
export { RedisKeyLayout } from './redis-key-layout';
export { RedisLocks, type RedisLocksOptions } from './redis-locks';
export { RedisStore, type RedisStoreOptions, type TransactionalCreate } from './redis-store';
export { storeProvider } from './store-provider';
