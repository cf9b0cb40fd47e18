import type { BackendProvider } from '@au/core/kit';
import { SyncTestBackend } from './sync-test-backend';

/**
 * `AU_BACKEND=sync-test` (the `test` preset): a SyncTestBackend on the configuration's
 * store and clock, so TTLs, timeouts and backoff follow the preset's virtual clock.
 */
export const syncTestBackendProvider: BackendProvider = {
  matches: (value) => value === 'sync-test',
  create: ({ store, clock }) => new SyncTestBackend({ store, ...(clock === undefined ? {} : { clock }) }),
};
