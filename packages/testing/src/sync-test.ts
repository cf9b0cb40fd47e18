/**
 * @au/testing/sync-test: what the `test` preset needs at run time (the SyncTestBackend,
 * its provider for `AU_BACKEND=sync-test`, the virtual clock), without the conformance
 * suites' vitest import, so a program may load it outside a test runner.
 */

export { SyncTestBackend, type SyncTestBackendOptions } from './sync-test-backend';
export { syncTestBackendProvider as backendProvider } from './sync-test-backend-provider';
export { createVirtualClock, type VirtualClock } from './virtual-clock';
