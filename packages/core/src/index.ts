export { applyPatch, isExpired } from './apply-patch';
export { type AsyncComputation, type AsyncComputeOptions, asyncCompute } from './async-compute';
export { InProcessBackend, type InProcessBackendOptions } from './backends/in-process-backend';
export {
  LocalScheduler,
  type LocalSchedulerOptions,
  type LocalSlot,
  type LocalWork,
} from './backends/local-scheduler';
export {
  type BatchableRequest,
  type BatchableResponse,
  type BatchFailure,
  ShortTaskBatcher,
  type ShortTaskBatcherOptions,
} from './backends/short-task-batcher';
export {
  FORWARDED_LOG_LEVELS,
  type ForwardedLogLevel,
  forwardingLogger,
  ThrottledProgress,
} from './backends/worker-reporting';
export { computeBackoff } from './backoff';
export { type CancelComputationOptions, cancelComputation } from './cancel-computation';
export { applyClaim, claimComputation } from './claim';
export { type Clock, sleep, systemClock, type TimerHandle } from './clock';
export { jsonCodec } from './codecs/json-codec';
export { structuredCodec } from './codecs/structured-codec';
export { type AuConfig, type ConfigFromEnvOptions, configFromEnv, redact } from './config/config-from-env';
export {
  type BackendProvider,
  type BackendProviderContext,
  registerBackendProvider,
  registerStoreProvider,
  type StoreProvider,
  type StoreProviderContext,
} from './config/providers';
export type { BackendCapabilities, CloseOptions, ComputationBackend, Invocation } from './contracts/backend';
export type { Codec } from './contracts/codec';
export {
  composeMiddleware,
  defineMiddleware,
  type LaunchContext,
  type Middleware,
  type MiddlewareHooks,
  type Next,
  type RunContext,
} from './contracts/middleware';
export type {
  ClaimOptions,
  ClaimResult,
  ComputationStore,
  ListPage,
  ListQuery,
  StoreCapabilities,
  UpdateOptions,
} from './contracts/store';
export { type AuDefaults, getDefaults, setDefaults, withDefaults } from './defaults';
export { AuError } from './errors/au-error';
export { CancelledError } from './errors/cancelled-error';
export { ClosedError } from './errors/closed-error';
export { ComputationFailedError } from './errors/computation-failed-error';
export { ComputationNotFoundError } from './errors/computation-not-found-error';
export { ConfigError } from './errors/config-error';
export { InvalidKeyError } from './errors/invalid-key-error';
export { KeyExistsError } from './errors/key-exists-error';
export { RateLimitError } from './errors/rate-limit-error';
export { reviveError } from './errors/revive-error';
export { serializeError } from './errors/serialize-error';
export { TaskNotFoundError } from './errors/task-not-found-error';
export { TimeoutError } from './errors/timeout-error';
export { ValidationError, type ValidationIssue } from './errors/validation-error';
export {
  type ExecuteOptions,
  type ExecutionOutcome,
  executeAttempt,
  executeComputation,
  type Runnable,
} from './executor';
export { type ComputationEvent, ComputationHandle, type HandleContext, type ResultOptions } from './handle';
export { PriorityQueue } from './internal/priority-queue';
export { assertValidKey, generateKey, isValidKey, KEY_PATTERN } from './keys';
export {
  type LaunchOptions,
  type LaunchResult,
  type LaunchSettings,
  launchComputation,
  launchMany,
} from './launch';
export {
  compareListOrder,
  DEFAULT_LIST_LIMIT,
  decodeCursor,
  encodeCursor,
  type ListPosition,
  MAX_LIST_LIMIT,
  matchesListQuery,
  type NormalizedListQuery,
  normalizeListQuery,
  pageRecords,
} from './list-query';
export { childLogger, silentLogger } from './logger';
export { LoggingMiddleware, type LoggingMiddlewareOptions } from './middleware/logging-middleware';
export {
  type ComputationStats,
  MetricsMiddleware,
  type PrometheusOptions,
} from './middleware/metrics-middleware';
export { RateLimitMiddleware, type RateLimitOptions } from './middleware/rate-limit-middleware';
export { createPushIterable, type PushIterable } from './push-iterable';
export type { ComputationPatch, ComputationRecord, SerializedError } from './record';
export { type RecordCancelledOptions, recordCancelled } from './record-cancelled';
export { NO_RETRY, type RetryPolicy } from './retry-policy';
export {
  ACTIVE_STATUSES,
  COMPUTATION_STATUSES,
  type ComputationStatus,
  canTransition,
  isComputationStatus,
  isTerminalStatus,
  TERMINAL_STATUSES,
} from './status';
export { MemoryStore, type MemoryStoreOptions } from './stores/memory-store';
export { type GetResultOptions, getResult, getStatus, submitTask } from './submit-task';
export {
  defineTask,
  type InputSchema,
  isTaskDefinition,
  type TaskContext,
  type TaskDefinition,
  type TaskInput,
  type TaskLogger,
  type TaskOptions,
  type TaskResult,
} from './task';
export { loadTaskModules, TaskRegistry, toModuleSpecifier } from './task-registry';
export {
  type TemporaryAsyncCompute,
  type TemporaryAsyncComputeOptions,
  temporaryAsyncCompute,
} from './temporary-async-compute';
export { followRecord, type WaitOptions, waitForTerminal } from './wait-for-record';
