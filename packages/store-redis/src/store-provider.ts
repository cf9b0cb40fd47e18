import type { StoreProvider } from '@au/core/kit';
import { RedisStore } from './redis-store';

/**
 * `AU_STORE=redis://…` (or `rediss://…`): a RedisStore on that URL. `AU_REDIS_PREFIX`
 * sets the key prefix (default `au`).
 */
export const storeProvider: StoreProvider = {
  matches: (value) => /^rediss?:\/\//.test(value),
  create: ({ value, env }) => new RedisStore({ redis: value, prefix: env.AU_REDIS_PREFIX || 'au' }),
};
