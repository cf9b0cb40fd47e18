import type { Clock } from '../clock';
import type { ComputationBackend } from '../contracts/backend';
import type { Middleware } from '../contracts/middleware';
import type { ComputationStore } from '../contracts/store';
import type { TaskLogger } from '../task';
import type { TaskRegistry } from '../task-registry';

/** What a provider receives when `configFromEnv` asks it for a store. */
export interface StoreProviderContext {
  /** The whole `AU_STORE` value, e.g. `redis://127.0.0.1:6379/0` or `fs:./data`. */
  value: string;
  env: Readonly<Record<string, string | undefined>>;
}

/** What a provider receives when `configFromEnv` asks it for a backend. */
export interface BackendProviderContext {
  /** The whole `AU_BACKEND` value. */
  value: string;
  env: Readonly<Record<string, string | undefined>>;
  store: ComputationStore;
  /** `AU_CONCURRENCY`, when set. */
  concurrency: number | undefined;
  /** `AU_MAX_QUEUED`, when set: the backend's `maxQueued`. */
  maxQueued?: number | undefined;
  /** `AU_TASKS`, resolved to `file:` URLs. */
  taskModules: readonly string[];
  tasks: TaskRegistry;
  /** The clock of the configuration (a virtual one under the `test` preset). @default systemClock */
  clock?: Clock;
  /**
   * Run-side middleware for the work this backend's workers take from other processes
   * (queue workers, e.g. tracing). @default none
   */
  middleware?: readonly Middleware[];
  /** Where the backend logs (a queue worker's failed claims, lost leases, give-backs). @default silent */
  logger?: TaskLogger;
}

/** Makes a store from an `AU_STORE` value; exported by store packages as `storeProvider`. */
export interface StoreProvider {
  /** Does this provider handle the value? e.g. `value.startsWith('redis://')`. */
  matches(value: string): boolean;
  create(context: StoreProviderContext): ComputationStore | Promise<ComputationStore>;
}

/** Makes a backend from an `AU_BACKEND` value; exported by backend packages as `backendProvider`. */
export interface BackendProvider {
  matches(value: string): boolean;
  create(context: BackendProviderContext): ComputationBackend | Promise<ComputationBackend>;
}

const storeProviders: StoreProvider[] = [];
const backendProviders: BackendProvider[] = [];

/** Adds a store provider that `configFromEnv` asks before the built-in ones. */
export function registerStoreProvider(provider: StoreProvider): void {
  storeProviders.unshift(provider);
}

/** Adds a backend provider that `configFromEnv` asks before the built-in ones. */
export function registerBackendProvider(provider: BackendProvider): void {
  backendProviders.unshift(provider);
}

export function findStoreProvider(value: string): StoreProvider | undefined {
  return storeProviders.find((provider) => provider.matches(value));
}

export function findBackendProvider(value: string): BackendProvider | undefined {
  return backendProviders.find((provider) => provider.matches(value));
}

/** Which package provides each known `AU_STORE` form. */
export const KNOWN_STORE_PACKAGES: readonly {
  test: (value: string) => boolean;
  form: string;
  package: string;
}[] = [
  { test: (value) => value.startsWith('fs:') || value === 'fs', form: 'fs:PATH', package: '@au/store-fs' },
  { test: (value) => /^rediss?:\/\//.test(value), form: 'redis://…', package: '@au/store-redis' },
  { test: (value) => /^postgres(ql)?:\/\//.test(value), form: 'postgres://…', package: '@au/store-supabase' },
  { test: (value) => value === 'supabase', form: 'supabase', package: '@au/store-supabase' },
];

/** Which package provides each known `AU_BACKEND` value. */
export const KNOWN_BACKEND_PACKAGES: readonly { value: string; package: string }[] = [
  { value: 'threads', package: '@au/backend-threads' },
  { value: 'process', package: '@au/backend-process' },
  { value: 'bullmq', package: '@au/backend-bullmq' },
  { value: 'postgres', package: '@au/backend-supabase' },
  { value: 'supabase', package: '@au/backend-supabase' },
  // The `test` preset's backend; a subpath, so that no vitest import comes with it.
  { value: 'sync-test', package: '@au/testing/sync-test' },
];
