import type { ComputationRecord, ComputationStatus } from '@au/core';

/** A computation as the HTTP API shows it. Times are ISO 8601 strings. */
export interface TaskView {
  taskId: string;
  task: string;
  status: ComputationStatus;
  progress?: unknown;
  error?: ErrorView;
  attempt: number;
  maxAttempts: number;
  priority?: number;
  tags?: string[];
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  expiresAt?: string;
  /** The input, decoded: only from `GET /tasks/{id}`, and never for a task with `hideInput`. */
  input?: unknown;
  /** True when the server withholds the input (`hideInput` on the task, or `exposeInputs: false`). */
  inputHidden?: boolean;
  /** The attempts that ended before the current one (retried), oldest first. */
  history?: AttemptView[];
  /** True on a pending computation whose task, or the whole queue, is paused. */
  paused?: boolean;
}

/** One ended attempt, as `history` shows it. */
export interface AttemptView {
  attempt: number;
  status: 'failed' | 'cancelled';
  error?: ErrorView;
  startedAt?: string;
  finishedAt?: string;
}

/** The error of a failed or cancelled computation. */
export interface ErrorView {
  code: string;
  name: string;
  message: string;
  stack?: string;
}

/** The public view of a record: no arguments (see `withInput`), no value, no stack unless asked. */
export function toTaskView(record: ComputationRecord, exposeStacks: boolean): TaskView {
  const view: TaskView = {
    taskId: record.key,
    task: record.task,
    status: record.status,
    attempt: record.attempt,
    maxAttempts: record.maxAttempts,
    createdAt: new Date(record.createdAt).toISOString(),
  };
  if (record.progress !== undefined) view.progress = record.progress;
  if (record.error !== undefined) view.error = toErrorView(record, exposeStacks);
  if (record.priority !== undefined) view.priority = record.priority;
  if (record.tags !== undefined) view.tags = record.tags;
  if (record.startedAt !== undefined) view.startedAt = new Date(record.startedAt).toISOString();
  if (record.finishedAt !== undefined) view.finishedAt = new Date(record.finishedAt).toISOString();
  if (record.expiresAt !== undefined) view.expiresAt = new Date(record.expiresAt).toISOString();
  if (record.history !== undefined && record.history.length > 0) {
    view.history = record.history.map((item) => {
      const attempt: AttemptView = { attempt: item.attempt, status: item.status };
      if (item.error !== undefined) {
        attempt.error = toErrorView({ ...record, status: item.status, error: item.error }, exposeStacks);
      }
      if (item.startedAt !== undefined) attempt.startedAt = new Date(item.startedAt).toISOString();
      if (item.finishedAt !== undefined) attempt.finishedAt = new Date(item.finishedAt).toISOString();
      return attempt;
    });
  }
  return view;
}

/** The stored error as the API shows it; `code` falls back to one derived from the status. */
export function toErrorView(record: ComputationRecord, exposeStacks: boolean): ErrorView {
  const error = record.error ?? { name: 'Error', message: `computation ${record.status}` };
  const view: ErrorView = {
    code: error.code ?? (record.status === 'cancelled' ? 'CANCELLED' : 'TASK_FAILED'),
    name: error.name,
    message: error.message,
  };
  if (exposeStacks && error.stack !== undefined) view.stack = error.stack;
  return view;
}
