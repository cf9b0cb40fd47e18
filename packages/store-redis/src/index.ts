export { RedisUnavailableError } from './errors/redis-unavailable-error';
export { RedisKeyLayout } from './redis-key-layout';
export { RedisStore, type RedisStoreOptions } from './redis-store';
export { storeProvider } from './store-provider';
