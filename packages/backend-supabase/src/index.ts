export { backendProvider } from './backend-provider';
export { fromBackoffSpec, toBackoffSpec } from './backoff-spec';
export { LeaseLostError } from './errors/lease-lost-error';
export { type LeaseSettings, leaseSettingsFromEnv } from './lease-settings-from-env';
export { PostgresQueueBackend, type PostgresQueueBackendOptions } from './postgres-queue-backend';
export { QueueBackend } from './queue-backend';
export type { QueueBackendOptions } from './queue-backend-options';
export { type BackoffSpec, type ClaimedTask, QueueClient, type QueueJob } from './queue-client';
export { QueueWorker, type QueueWorkerOptions } from './queue-worker';
export { type DueSchedules, SqlScheduleRepository } from './sql-schedule-repository';
export {
  type QueueWorkerHandle,
  type StartPostgresWorkerOptions,
  type StartSupabaseWorkerOptions,
  startPostgresWorker,
  startSupabaseWorker,
} from './start-worker';
export { SupabaseQueueBackend, type SupabaseQueueBackendOptions } from './supabase-queue-backend';
