// The shapes of the au HTTP API (`@au/http`), as the page reads them.

import type { AttemptView, PausedState, TaskError, TaskStatus, TaskView } from '@au/client';

export type { AttemptView, PausedState, TaskError, TaskStatus, TaskView };

export const STATUSES: TaskStatus[] = ['pending', 'running', 'completed', 'failed', 'cancelled'];

export type Outcome =
  | { taskId: string; status: 'completed'; result: unknown }
  | { taskId: string; status: 'pending' | 'running' }
  | { taskId: string; status: 'failed' | 'cancelled'; error: TaskError };

export interface TaskInfo {
  name: string;
  description?: string;
  schema?: JsonSchema;
}

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  enum?: unknown[];
  default?: unknown;
  description?: string;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
}

export const ACTIVE: TaskStatus[] = ['pending', 'running'];

export function isActive(status: TaskStatus): boolean {
  return status === 'pending' || status === 'running';
}

/** A schedule as `GET /schedules` shows it. */
export interface ScheduleView {
  id: string;
  task: string;
  cron?: string;
  every?: number;
  timezone?: string;
  input?: unknown;
  startAt?: string;
  endAt?: string;
  overlap: 'skip' | 'allow' | 'queue';
  priority?: number;
  tags?: string[];
  paused: boolean;
  nextRunAt?: string;
  lastRunAt?: string;
  /** The computation of the last run. */
  lastTaskId?: string;
  /** The task hides its input (`hideInput`). */
  inputHidden?: boolean;
  skipped: number;
  createdAt: string;
  updatedAt: string;
}

/** One line a task wrote with `ctx.log`. */
export interface LogLineView {
  time: string;
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  data?: unknown;
  attempt?: number;
}

/** `GET /tasks/{id}/logs`. */
export interface LogsView {
  taskId: string;
  status: TaskStatus;
  lines: LogLineView[];
  dropped: number;
}

/** Percentiles of durations, in ms. */
export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** `GET /stats`: live counts of the store, and what this server ran recently. */
export interface StatsView {
  at: number;
  counts: {
    byStatus: Record<TaskStatus, number>;
    byTask: Record<string, Record<TaskStatus, number>>;
  };
  recent: {
    window: number;
    completed: number;
    failed: number;
    cancelled: number;
    throughput: number;
    successRate: number | null;
    duration: Percentiles | null;
    queueWait: Percentiles | null;
  } | null;
}
