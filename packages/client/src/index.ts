export {
  AuClient,
  type AuClientOptions,
  type EventsOptions,
  type SubmitOptions,
  type WatchOptions,
} from './au-client';
export { AuHttpError } from './errors/au-http-error';
export { parseServerSentEvents, type ServerSentEvent } from './parse-sse';
export { progressFraction } from './progress-fraction';
export type {
  AttemptView,
  DeadLetterFilters,
  InferTasks,
  ListFilters,
  ListResult,
  LogLine,
  OverlapPolicy,
  PausedState,
  RedriveFilter,
  RedriveResult,
  ScheduleRequest,
  ScheduleView,
  TaskError,
  TaskEvent,
  TaskInfo,
  TaskLogs,
  TaskMap,
  TaskOutcome,
  TaskStatus,
  TaskTypes,
  TaskView,
  WatchEvent,
  WatchFilters,
} from './types';
