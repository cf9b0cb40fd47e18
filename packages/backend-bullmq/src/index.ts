export { backendProvider, redisUrlFromEnv } from './backend-provider';
export { BullMQBackend, type BullMQBackendOptions } from './bullmq-backend';
export { BullMQScheduler, type BullMQSchedulerSettings } from './bullmq-scheduler';
export { JobAbandonedError } from './errors/job-abandoned-error';
export { PreviousJobActiveError } from './errors/previous-job-active-error';
export { QueueUnavailableError } from './errors/queue-unavailable-error';
export { fromJobId, type JobData, toBullMQPriority, toJobId } from './job-options';
export type { RedisConnection } from './redis-connection';
export {
  type BullMQWorkerFromEnv,
  type RunBullMQWorkerFromEnvOptions,
  runBullMQWorkerFromEnv,
} from './run-bullmq-worker-from-env';
export { type StallSettings, stallSettingsFromEnv } from './stall-settings-from-env';
export { type BullMQWorker, type BullMQWorkerOptions, startBullMQWorker } from './start-bullmq-worker';
export { storeBindingKey } from './store-binding';
