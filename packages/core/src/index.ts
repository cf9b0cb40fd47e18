export { type AsyncComputation, type AsyncComputeOptions, asyncCompute } from './async-compute';
export { InProcessBackend, type InProcessBackendOptions } from './backends/in-process-backend';
export { RoutingBackend, type RoutingBackendOptions } from './backends/routing-backend';
export { type Clock, sleep, systemClock, type TimerHandle } from './clock';
export { jsonCodec } from './codecs/json-codec';
export { structuredCodec } from './codecs/structured-codec';
export {
  type ComputationStatsOptions,
  type ComputationStatsReport,
  computationStats,
} from './computation-stats';
export { type AuConfig, type ConfigFromEnvOptions, configFromEnv, redact } from './config/config-from-env';
export type {
  BackendCapabilities,
  CloseOptions,
  ComputationBackend,
  Invocation,
  PausedState,
  TaskRegistration,
} from './contracts/backend';
export type { Codec } from './contracts/codec';
export type { HeldLock, LockProvider } from './contracts/lock';
export {
  composeMiddleware,
  type DeadLetterHook,
  defineMiddleware,
  type LaunchContext,
  type Middleware,
  type MiddlewareHooks,
  type Next,
  type RunContext,
} from './contracts/middleware';
export {
  type ComputationScheduler,
  DEFAULT_CATCH_UP,
  OVERLAP_POLICIES,
  type OverlapPolicy,
  type ScheduleRepository,
  type SchedulerContext,
  type ScheduleSpec,
  type ScheduleState,
  scheduleTag,
  tickKey,
} from './contracts/scheduler';
export type {
  ClaimOptions,
  ClaimResult,
  ComputationStore,
  CountQuery,
  ListPage,
  ListQuery,
  StoreCapabilities,
  UpdateOptions,
  WatchFilter,
} from './contracts/store';
export { countComputations } from './count-computations';
export {
  countDeadLetters,
  type DeadLetterQuery,
  listDeadLetters,
  type PurgeDeadLettersOptions,
  purgeDeadLetters,
} from './dead-letters';
export { type AuDefaults, getDefaults, setDefaults, withDefaults } from './defaults';
export { AuError } from './errors/au-error';
export { CancelledError } from './errors/cancelled-error';
export { ClosedError } from './errors/closed-error';
export { ComputationFailedError } from './errors/computation-failed-error';
export { ComputationNotFoundError } from './errors/computation-not-found-error';
export { ConfigError } from './errors/config-error';
export { DependencyFailedError } from './errors/dependency-failed-error';
export { InvalidKeyError } from './errors/invalid-key-error';
export { InvalidScheduleError } from './errors/invalid-schedule-error';
export { isUnavailableError } from './errors/is-unavailable-error';
export { KeyConflictError } from './errors/key-conflict-error';
export { KeyExistsError } from './errors/key-exists-error';
export { LockLostError } from './errors/lock-lost-error';
export { LockUnavailableError } from './errors/lock-unavailable-error';
export { NothingToRedriveError } from './errors/nothing-to-redrive-error';
export { QueueFullError } from './errors/queue-full-error';
export { RateLimitError } from './errors/rate-limit-error';
export { RetryNotAllowedError } from './errors/retry-not-allowed-error';
export { ScheduleNotFoundError } from './errors/schedule-not-found-error';
export { StoreMismatchError } from './errors/store-mismatch-error';
export { StoreUnavailableError } from './errors/store-unavailable-error';
export { TaskNotFoundError } from './errors/task-not-found-error';
export { TimeoutError } from './errors/timeout-error';
export { UnknownDependencyError } from './errors/unknown-dependency-error';
export { ValidationError, type ValidationIssue } from './errors/validation-error';
export type { ConcurrencyGroup, ConcurrencyLimit, RateLimit, RateLimitGroup } from './flow/flow-limits';
export {
  canPause,
  type PauseOptions,
  pausedState,
  pauseQueue,
  pauseTask,
  resumeQueue,
  resumeTask,
} from './flow/pause';
export { type ComputationEvent, ComputationHandle, type ResultOptions } from './handle';
export { assertValidKey, generateKey, isValidKey, KEY_PATTERN } from './keys';
export type { LaunchOptions } from './launch';
export { MAX_LOCK_KEY_LENGTH, MAX_LOCK_TTL, MIN_LOCK_TTL } from './locks/lock-arguments';
export { MemoryLocks, type MemoryLocksOptions } from './locks/memory-locks';
export { type LockContext, type WithLockOptions, withLock } from './locks/with-lock';
export { childLogger, silentLogger } from './logger';
export { LoggingMiddleware, type LoggingMiddlewareOptions } from './middleware/logging-middleware';
export {
  type ComputationStats,
  MetricsMiddleware,
  type MetricsMiddlewareOptions,
  type PrometheusOptions,
  type WindowStats,
} from './middleware/metrics-middleware';
export type { Percentiles } from './middleware/percentiles';
export { RateLimitMiddleware, type RateLimitOptions } from './middleware/rate-limit-middleware';
export {
  type OpenTelemetryApi,
  type OpenTelemetrySpan,
  type OpenTelemetrySpanContext,
  type OpenTelemetryTracer,
  TracingMiddleware,
  type TracingMiddlewareOptions,
} from './middleware/tracing-middleware';
export type {
  AttemptSummary,
  ComputationLogs,
  ComputationPatch,
  ComputationRecord,
  LogLevel,
  LogLine,
  SerializedError,
} from './record';
export { type RedriveFilter, type RedriveResult, type RetryableStatus, redriveComputations } from './redrive';
export { NO_RETRY, type RetryPolicy, type RetrySpec } from './retry-policy';
export { nextTick, type ScheduleTiming } from './schedules/next-tick';
export { type OpenSchedulerOptions, openScheduler } from './schedules/open-scheduler';
export {
  deleteSchedule,
  getSchedule,
  listSchedules,
  pauseSchedule,
  resumeSchedule,
  type ScheduleOptions,
  type SchedulesOptions,
  schedule,
} from './schedules/schedule';
export { StoreScheduler, type StoreSchedulerOptions } from './schedules/store-scheduler';
export {
  ACTIVE_STATUSES,
  COMPUTATION_STATUSES,
  type ComputationStatus,
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
  RESOURCE_HINTS,
  type ResourceHint,
  type TaskContext,
  type TaskDefinition,
  type TaskInput,
  type TaskLogger,
  type TaskOptions,
  type TaskResult,
} from './task';
export { TaskRegistry } from './task-registry';
export {
  type TemporaryAsyncCompute,
  type TemporaryAsyncComputeOptions,
  temporaryAsyncCompute,
} from './temporary-async-compute';
export { type WatchComputationsOptions, watchComputations } from './watch-computations';
export { checkWatchFilter, matchesWatchFilter } from './watch-filter';
