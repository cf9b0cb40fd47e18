/** The five statuses of a computation. */
export type TaskStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';

/** Input and result types of one task, for a typed client. */
export interface TaskTypes {
  input: unknown;
  result: unknown;
}

/** Task name → its input and result types. */
export type TaskMap = Record<string, TaskTypes>;

/**
 * The `TaskMap` of a module of tasks, keyed by export name (name your exports like
 * your tasks): `AuClient<InferTasks<typeof import('./tasks')>>`. Structural, so the
 * client needs no au package at run time.
 */
export type InferTasks<Module> = {
  [Name in keyof Module as Module[Name] extends TaskLike ? Name & string : never]: Module[Name] extends {
    run(input: infer Input, ...rest: never[]): infer Result;
  }
    ? { input: Input; result: Awaited<Result> }
    : never;
};

interface TaskLike {
  readonly name: string;
  // biome-ignore lint/suspicious/noExplicitAny: matches any task's run signature
  run(...args: any[]): unknown;
}

/** The error of a failed or cancelled computation, as the server shows it. */
export interface TaskError {
  code: string;
  name: string;
  message: string;
  /** Only when the server exposes stacks. */
  stack?: string;
}

/** A computation as `GET /tasks/{id}` shows it. Times are ISO 8601 strings. */
export interface TaskView {
  taskId: string;
  task: string;
  status: TaskStatus;
  progress?: unknown;
  error?: TaskError;
  attempt: number;
  maxAttempts: number;
  priority?: number;
  tags?: string[];
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  expiresAt?: string;
  /** The input: only from `GET /tasks/{id}`, and never for a task defined with `hideInput`. */
  input?: unknown;
  /** True when the server withholds the input. */
  inputHidden?: boolean;
  /** The attempts that ended before the current one (retried), oldest first. */
  history?: AttemptView[];
  /** True on a pending computation whose task, or the whole queue, is paused. */
  paused?: boolean;
}

/** What is paused on the server's backend (`GET /pauses`). */
export interface PausedState {
  /** The whole queue is paused: no task starts. */
  queue: boolean;
  /** Tasks paused one by one (whether or not the whole queue is), sorted by name. */
  tasks: string[];
}

/** One ended attempt of a retried computation. */
export interface AttemptView {
  attempt: number;
  status: 'failed' | 'cancelled';
  error?: TaskError;
  startedAt?: string;
  finishedAt?: string;
}

/** Which failed (or cancelled) computations `redrive` retries. */
export interface RedriveFilter {
  task?: string;
  /** @default 'failed' (the dead letters) */
  status?: 'failed' | 'cancelled' | readonly ('failed' | 'cancelled')[];
  /** Only those that ended at or after this time. */
  since?: Date | string | number;
  tag?: string;
  /** At most this many, newest first. */
  limit?: number;
}

/** What `redrive` did. */
export interface RedriveResult {
  count: number;
  taskIds: string[];
  /** Those that matched but could not be retried. */
  errors: { taskId: string; code: string; message: string }[];
}

/** Filters and paging of `deadLetters`. */
export interface DeadLetterFilters {
  task?: string;
  tag?: string;
  /** 1 to 1000. @default 100 */
  limit?: number;
  cursor?: string;
}

/** Where a computation stands after a submit or a result request. */
export type TaskOutcome<Result> =
  | { taskId: string; status: 'completed'; result: Result }
  | { taskId: string; status: 'pending' | 'running' }
  | { taskId: string; status: 'failed' | 'cancelled'; error: TaskError };

/** One server-sent event of `events(id)`. */
export interface TaskEvent {
  /** The event id (pass it as `lastEventId` to resume). */
  id: string | undefined;
  /** `status` when the status changed, `progress` when only the progress did. */
  type: 'status' | 'progress';
  task: TaskView;
}

/** One server-sent event of `watch`. */
export type WatchEvent =
  | {
      /** The event id (pass it as `lastEventId` to resume). */
      id: string | undefined;
      /** A new task, or a new version of one. */
      type: 'change';
      task: TaskView;
    }
  | {
      id: undefined;
      /** Events were missed and cannot be replayed: read `list` again. */
      type: 'reset';
    };

/** Which tasks `watch` follows: every one by default. */
export interface WatchFilters {
  status?: TaskStatus | readonly TaskStatus[];
  task?: string;
  tag?: string;
}

/** One line a task wrote with `ctx.log`. */
export interface LogLine {
  /** ISO 8601. */
  time: string;
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  /** The object logged with the message. */
  data?: unknown;
  attempt?: number;
}

/** The log of a computation (`GET /tasks/{id}/logs`): the newest lines, bounded. */
export interface TaskLogs {
  taskId: string;
  status: TaskStatus;
  /** Oldest first. */
  lines: LogLine[];
  /** Older lines let go to keep the log bounded. */
  dropped: number;
}

/** Filters and paging of `list`. */
export interface ListFilters {
  status?: TaskStatus | readonly TaskStatus[];
  task?: string;
  tag?: string;
  /** 1 to 1000. @default 100 */
  limit?: number;
  /** The `cursor` of the previous page. */
  cursor?: string;
}

export interface ListResult {
  items: TaskView[];
  /** Present when there may be more. */
  cursor?: string;
}

/** A task the server runs, from its OpenAPI document. */
export interface TaskInfo {
  name: string;
  description?: string;
  /** JSON Schema of the input (OpenAPI 3.0 dialect). */
  inputSchema?: unknown;
}

/** What a tick does while the previous run is still active. */
export type OverlapPolicy = 'skip' | 'allow' | 'queue';

/** The body of `createSchedule`: exactly one of `cron` and `every`. */
export interface ScheduleRequest<Input = unknown> {
  /** Unique name; creating the same id again replaces the schedule. @default the task name */
  id?: string;
  task: string;
  /** Cron expression: 5 fields, or 6 with seconds first. */
  cron?: string;
  /** Milliseconds between ticks (at least 100). */
  every?: number;
  /** IANA time zone of `cron`. @default UTC */
  timezone?: string;
  input?: Input;
  /** ISO 8601 text or ms since the epoch. */
  startAt?: string | number;
  endAt?: string | number;
  /** @default 'skip' */
  overlap?: OverlapPolicy;
  priority?: number;
  tags?: string[];
  /** Seconds each run is kept after it ends. */
  ttl?: number;
  /** Ms: missed ticks younger than this run after a restart. @default 60000 */
  catchUp?: number;
}

/** A schedule as `GET /schedules/{id}` shows it. Times are ISO 8601 strings. */
export interface ScheduleView {
  id: string;
  task: string;
  cron?: string;
  every?: number;
  timezone?: string;
  input?: unknown;
  startAt?: string;
  endAt?: string;
  overlap: OverlapPolicy;
  priority?: number;
  tags?: string[];
  ttl?: number;
  catchUp?: number;
  paused: boolean;
  nextRunAt?: string;
  lastRunAt?: string;
  /** The id of the last run: `status(lastTaskId)`. */
  lastTaskId?: string;
  /** Ticks dropped by the overlap policy or as too old to catch up. */
  skipped: number;
  createdAt: string;
  updatedAt: string;
}
