export {
  type CollectingLogger,
  collectingLogger,
  type LogLevel,
  type LogLine,
} from './collecting-logger';
export {
  addTask,
  conformanceTasks,
  echoTask,
  failTask,
  flakyTask,
  keyedTask,
  mutexTask,
  progressTask,
  quickTask,
  rateLimitedTask,
  retryingTask,
  sleepTask,
  spinTask,
  stampTask,
  stubbornTask,
  timeoutTask,
  traceTask,
} from './conformance-tasks';
export { conformanceTasksUrl } from './conformance-tasks-url';
export { type FaultyStore, faultyStore, type StoreFault, type StoreMethod } from './faulty-store';
export {
  type BackendFault,
  type BackendMethod,
  type FlakyBackend,
  flakyBackend,
} from './flaky-backend';
export { freePort } from './free-port';
export type { Fault, FaultControl } from './internal/inject-faults';
export {
  type KilledProducerOptions,
  killProducerMidLaunch,
  type ProducerProcess,
  runConformanceProducer,
  unfinishedAfter,
} from './killed-producer';
export { type MockAsync, type MockAsyncOptions, mockAsync } from './mock-async';
export {
  type OutageStore,
  type OutageStoreOptions,
  outageStore,
  type StoreOutage,
  type StoreOutageControl,
} from './outage-store';
export { preparedLaunch } from './prepared-launch';
export { RedisServer, type RedisServerOptions } from './redis-server';
export { postgresUrl, redisUrl, requireService, type ServiceKind } from './service-url';
export { SyncTestBackend, type SyncTestBackendOptions } from './sync-test-backend';
export {
  type BackendFactoryContext,
  type TestBackendExtraContext,
  type TestBackendFlags,
  testBackend,
} from './test-backend';
export { type TestLocksFlags, testLocks } from './test-locks';
export { type LocksAcrossProcessesOptions, testLocksAcrossProcesses } from './test-locks-across-processes';
export {
  type ScheduleEnvironment,
  type TestSchedulesFlags,
  testSchedules,
} from './test-schedules';
export {
  type BatchingBackend,
  type BatchingBackendOptions,
  testShortTaskBatches,
} from './test-short-task-batches';
export { type TestStoreFlags, testStore } from './test-store';
export { createVirtualClock, type VirtualClock } from './virtual-clock';
