export { AuClient, type AuClientOptions, type EventsOptions, type SubmitOptions } from './au-client';
export { AuHttpError } from './errors/au-http-error';
export { parseServerSentEvents, type ServerSentEvent } from './parse-sse';
export { progressFraction } from './progress-fraction';
export type {
  InferTasks,
  ListFilters,
  ListResult,
  OverlapPolicy,
  ScheduleRequest,
  ScheduleView,
  TaskError,
  TaskEvent,
  TaskInfo,
  TaskMap,
  TaskOutcome,
  TaskStatus,
  TaskTypes,
  TaskView,
} from './types';
