import type { ComputationStatus } from './status';

/** An error as it is stored: plain data that survives any store and any process boundary. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  /** Set on a `CancelledError`: the key of the computation that was cancelled. */
  key?: string;
  /**
   * Set on a `CancelledError`: why it was cancelled, as the canceller gave it. Read it
   * here rather than out of `message`, whose wording may change.
   */
  reason?: string;
}

/**
 * One ended attempt of a computation, kept in `record.history` once another attempt
 * follows it (an automatic retry, or an explicit `retry`/`redrive`).
 */
export interface AttemptSummary {
  /** The attempt's number (1 for the first). */
  attempt: number;
  /** How it ended: `failed` (it threw or timed out) or `cancelled`. */
  status: 'failed' | 'cancelled';
  error?: SerializedError;
  startedAt?: number;
  finishedAt?: number;
}

/**
 * The stored state of one computation. Stores keep it as plain JSON-compatible data:
 * `args` and `value` are already encoded by the computation's codec.
 */
export interface ComputationRecord<T = unknown> {
  /** Unique key: `[A-Za-z0-9_.:-]{1,200}`, generated (time-sortable) or given by the caller. */
  key: string;
  /** Name of the task that computes it. */
  task: string;
  status: ComputationStatus;
  /** Encoded arguments. */
  args?: unknown;
  /** Encoded result, once `completed`. */
  value?: T;
  /** The last error: the failure once `failed`, the reason once `cancelled`, the last failed attempt while retrying. */
  error?: SerializedError;
  /** The last progress value the task reported. */
  progress?: unknown;
  /** Attempts started so far (0 while first pending). */
  attempt: number;
  /** Attempts allowed in all, the first included. */
  maxAttempts: number;
  /** Higher runs first; 0 when not given. */
  priority?: number;
  tags?: string[];
  meta?: Record<string, unknown>;
  /** Milliseconds since the epoch. */
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  /** When the record stops being visible; set when the computation ends. */
  expiresAt?: number;
  /**
   * Seconds the record lives after it ends. Kept on the record (an addition to the
   * Python au's record) because whichever process ends the computation sets `expiresAt`.
   */
  ttl?: number;
  /** Earliest time a pending computation may start (a delay, or a retry's backoff). */
  runAt?: number;
  /** Key of the computation or graph that launched this one. */
  parent?: string;
  /**
   * The attempts that ended before the current one, oldest first: each failed attempt
   * that was retried, and the ending a `retry`/`redrive` re-opened. Absent while there
   * is none (a first attempt that succeeds writes nothing extra).
   */
  history?: AttemptSummary[];

  /**
   * The lines the task wrote with `ctx.log`, oldest first, bounded (see `ComputationLogs`).
   * Absent when the task never logged: a task that does not log writes nothing extra.
   */
  logs?: ComputationLogs;
}

/** A level of `ctx.log`. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** One line a task wrote with `ctx.log`, as it is stored with its computation. */
export interface LogLine {
  /** Milliseconds since the epoch. */
  time: number;
  level: LogLevel;
  /** The message (cut to 2,000 characters). */
  message: string;
  /** The object logged with it (pino style: `ctx.log.info({ rows: 3 }, 'loaded')`), JSON-safe. */
  data?: unknown;
  /** The attempt that wrote it. */
  attempt?: number;
}

/**
 * The stored log of a computation: the newest lines, at most 200 and about 64 KB in all
 * (across attempts); `dropped` counts the older lines that were let go to stay within it.
 */
export interface ComputationLogs {
  lines: LogLine[];
  /** Lines dropped (the oldest first) to stay within the bounds. */
  dropped: number;
}

/** The fields `update` may change; `key`, `task` and `createdAt` are fixed at creation. */
export type ComputationPatch = Partial<Omit<ComputationRecord, 'key' | 'task' | 'createdAt'>>;
