/**
 * @au/core/kit: what store and backend authors need (the executor, claims, the local
 * scheduler and batcher, list paging, launch internals). Users of au import from
 * `@au/core`; this subpath may change in minor versions with a changeset that says how.
 */
export { applyPatch, isExpired, isReopening } from './apply-patch';
export {
  LocalScheduler,
  type LocalSchedulerOptions,
  type LocalSlot,
  type LocalWork,
} from './backends/local-scheduler';
export { type LocalRun, LocalTasks } from './backends/local-tasks';
export {
  isTypeScriptModule,
  normalizeTaskModules,
  resolveCodec,
  TASK_MODULES_WHERE,
} from './backends/pool/pool-task-modules';
export type { PoolTransport, PoolTransportContext } from './backends/pool/pool-transport';
export {
  isWorkerEvent,
  MAX_ATTEMPT_ID,
  type PoolRequest,
  type PoolResponse,
  type WorkerEvent,
} from './backends/pool/pool-wire';
export { PooledBackend } from './backends/pool/pooled-backend';
export type { PooledBackendSettings, PoolOptions } from './backends/pool/pooled-backend-options';
export { WorkerAttempt, type WorkerAttemptOptions } from './backends/pool/worker-attempt';
export {
  type BatchableRequest,
  type BatchableResponse,
  type BatchFailure,
  ShortTaskBatcher,
  type ShortTaskBatcherOptions,
} from './backends/short-task-batcher';
export { describeStore, StoreBinding, sameStore } from './backends/store-binding';
export {
  FORWARDED_LOG_LEVELS,
  type ForwardedLogLevel,
  forwardingLogger,
  ThrottledProgress,
} from './backends/worker-reporting';
export { computeBackoff } from './backoff';
export { keepProcessAlive } from './clock';
export { integerFromEnv } from './config/integer-from-env';
export {
  type BackendProvider,
  type BackendProviderContext,
  registerBackendProvider,
  registerStoreProvider,
  type StoreProvider,
  type StoreProviderContext,
} from './config/providers';
export { reviveError } from './errors/revive-error';
export { serializeError } from './errors/serialize-error';
export {
  type ExecuteOptions,
  type ExecutionOutcome,
  executeAttempt,
  executeComputation,
  type Runnable,
} from './executor';
export { checkMaxQueued } from './flow/check-max-queued';
export {
  CONCURRENCY_KEY_META,
  flowGroupsOf,
  flowGroupsOfRecord,
  RATE_LIMIT_KEY_META,
} from './flow/flow-limits';
export type { HandleContext } from './handle';
export { AllWatchers } from './internal/all-watchers';
export { checkOptions, optionNames } from './internal/check-options';
export { closestName } from './internal/closest-name';
export { isPromiseLike } from './internal/is-promise-like';
export { PriorityQueue } from './internal/priority-queue';
export { validateInput } from './internal/validate-input';
export {
  encodeInput,
  type LaunchResult,
  type LaunchSettings,
  launchComputation,
  launchMany,
  resumeHeldLaunch,
} from './launch';
export { type CancelComputationOptions, cancelComputation } from './lifecycle/cancel-computation';
export { applyClaim, claimComputation, claimPatch } from './lifecycle/claim';
export { type CompleteFields, completeComputation } from './lifecycle/complete-computation';
export type { EndingFields, LifecycleOptions } from './lifecycle/ending';
export { type FailFields, failComputation } from './lifecycle/fail-computation';
export { notifyDeadLetter } from './lifecycle/notify-dead-letter';
export { type RecordCancelledOptions, recordCancelled } from './lifecycle/record-cancelled';
export { type RequeueFields, requeueComputation } from './lifecycle/requeue-computation';
export { attemptSummary, retryComputation } from './lifecycle/retry-computation';
export {
  isTransientStoreError,
  NO_STORE_RETRY,
  type PersistOptions,
  persist,
  type StoreRetryOptions,
} from './lifecycle/store-retry';
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
export { assertLockKey, assertLockToken, assertLockTtl } from './locks/lock-arguments';
export { createPushIterable, type PushIterable } from './push-iterable';
export { checkRedriveFilter } from './redrive';
export { toRetrySpec, withRetryFunctions } from './retry-policy';
export { checkScheduleSpec, MAX_SCHEDULE_ID_LENGTH, MIN_EVERY } from './schedules/check-schedule-spec';
export { type FireContext, fireDueTicks } from './schedules/fire-schedule';
export { canTransition } from './status';
export { MemoryScheduleRepository } from './stores/memory-schedule-repository';
export { loadTaskModules, toModuleSpecifier } from './task-registry';
export { followRecord, type WaitOptions, waitForTerminal } from './wait-for-record';
