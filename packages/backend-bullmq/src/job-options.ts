import {
  type ConcurrencyGroup,
  type Invocation,
  isValidKey,
  type RateLimitGroup,
  type RetryPolicy,
  tickKey,
} from '@au/core';
import type { JobsOptions } from 'bullmq';

/** What a BullMQ job carries: the task's name and the launch's policies. Arguments stay in the record. */
export interface JobData {
  /** The task's name: workers look it up in their task modules. */
  task: string;
  /** Per-attempt limit in ms given at launch. */
  timeout?: number;
  /** The serializable part of the retry policy given at launch. */
  retry?: SerializedRetryPolicy;
  /** On a job of an au schedule's job scheduler, or of a tick a worker caught up: the schedule's id. */
  schedule?: string;
  /** On the job of a tick a worker caught up (BullMQ skipped it): the tick's time. */
  tick?: number;
  /**
   * On a job of an `every` schedule: its ticks, `origin + n × every`. A BullMQ time off
   * that grid (BullMQ started late, from "now") is read as the grid tick before it.
   */
  grid?: { every: number; origin: number };
  /**
   * On a job of a job scheduler or repeat made outside au: the task's input, encoded by
   * its codec (the worker creates the run's record from it). au's own jobs carry none:
   * the record, or the schedule, holds the arguments.
   */
  args?: unknown;
  /** Its id is in its task's set of waiting jobs (a task with `maxQueued`): the worker takes it out at start. */
  counted?: true;
  /** The launch's concurrency group: workers start the job only with a slot of it (flow-gate.ts). */
  concurrency?: ConcurrencyGroup;
  /** The launch's rate-limit group: workers start the job only when its window has room. */
  rateLimit?: RateLimitGroup;
}

export type SerializedRetryPolicy = Pick<RetryPolicy, 'attempts' | 'delay' | 'maxDelay' | 'jitter'> & {
  backoff?: 'fixed' | 'linear' | 'exponential';
};

/** The custom BullMQ backoff type: the worker returns the delay core's executor computed. */
export const AU_BACKOFF_TYPE = 'au';

/** BullMQ's largest priority number (its lowest priority). */
export const BULLMQ_LOWEST_PRIORITY = 2_097_151;
/** The BullMQ priority that au's default priority 0 maps to: the middle of BullMQ's range. */
export const BULLMQ_PRIORITY_OF_ZERO = 1_048_576;

/**
 * au priority (higher first, default 0, any number) → BullMQ priority (1 is the highest,
 * 2 097 151 the lowest). Every job gets an explicit priority: BullMQ runs jobs without
 * one before all prioritized jobs, so leaving au's 0 unprioritized would put it ahead
 * of priority 10. au priority p becomes 1 048 576 − round(p), clamped to 1…2 097 151:
 * order is kept for p in −1 048 575…1 048 575, FIFO within one priority.
 */
export function toBullMQPriority(priority: number): number {
  const mapped = BULLMQ_PRIORITY_OF_ZERO - Math.round(Number.isFinite(priority) ? priority : 0);
  return Math.min(Math.max(mapped, 1), BULLMQ_LOWEST_PRIORITY);
}

/** The job's data for an invocation. */
export function toJobData(invocation: Invocation): JobData {
  const data: JobData = { task: invocation.task };
  if (invocation.timeout !== undefined) data.timeout = invocation.timeout;
  const { attempts, backoff, delay, maxDelay, jitter } = invocation.retry;
  if (attempts > 1) {
    const retry: SerializedRetryPolicy = { attempts };
    if (typeof backoff === 'string') retry.backoff = backoff;
    if (delay !== undefined) retry.delay = delay;
    if (maxDelay !== undefined && Number.isFinite(maxDelay)) retry.maxDelay = maxDelay;
    if (jitter !== undefined) retry.jitter = jitter;
    data.retry = retry;
  }
  if (invocation.concurrency !== undefined) data.concurrency = invocation.concurrency;
  if (invocation.rateLimit !== undefined) data.rateLimit = invocation.rateLimit;
  return data;
}

/**
 * The job's options: its id is the computation key, priority and delay map onto
 * BullMQ's, and attempts are BullMQ's own with the `au` backoff type, so BullMQ
 * schedules each retry after the delay core's retry policy computed.
 */
export function toJobOptions(invocation: Invocation, now: number, base: JobsOptions): JobsOptions {
  const options: JobsOptions = {
    ...base,
    jobId: toJobId(invocation.key),
    priority: toBullMQPriority(invocation.priority),
  };
  if (invocation.runAt !== undefined && invocation.runAt > now) options.delay = invocation.runAt - now;
  const attempts = Math.max(1, invocation.retry.attempts);
  if (attempts > 1) {
    options.attempts = attempts;
    options.backoff = { type: AU_BACKOFF_TYPE };
  }
  return options;
}

/** The retry policy a worker runs with: the task's own, overridden by what the launch sent. */
export function retryPolicyOf(task: { retry?: RetryPolicy }, data: JobData): RetryPolicy {
  return { ...(task.retry ?? { attempts: 1 }), ...(data.retry ?? {}) };
}

/** The pub/sub channel on which producers ask workers to stop an active job. */
export function cancelChannel(prefix: string, queue: string): string {
  return `${prefix}:${queue}:au-cancel`;
}

/**
 * The BullMQ job id of a computation key. BullMQ refuses `:` in custom ids and au keys
 * allow it, so `:` becomes `|`, which au keys never contain: the mapping is one to one.
 */
export function toJobId(key: string): string {
  return key.includes(':') ? key.replaceAll(':', '|') : key;
}

/** The computation key of a BullMQ job id made by `toJobId`. */
export function fromJobId(jobId: string): string {
  return jobId.includes('|') ? jobId.replaceAll('|', ':') : jobId;
}

/** What `computationKeyOf` reads of a job. */
interface JobIdentity {
  id?: string | undefined;
  repeatJobKey?: string | undefined;
  timestamp?: number;
  data?: Pick<JobData, 'schedule' | 'tick' | 'grid'>;
}

/** The schedule a job runs a tick of (a job scheduler's, or a caught-up tick's), if any. */
export function scheduleOf(job: JobIdentity): string | undefined {
  if (job.repeatJobKey !== undefined) return job.repeatJobKey;
  return job.data?.tick === undefined ? undefined : job.data.schedule;
}

/**
 * The computation key of a job: the key it was launched with, or for a job a BullMQ job
 * scheduler made (id `repeat:<scheduler>:<tick>`), `tickKey(scheduler, tick)`, so that
 * whoever handles a tick handles one record. A scheduler id that makes no valid key has
 * its other characters replaced by `_`.
 */
export function computationKeyOf(job: JobIdentity): string {
  const schedule = scheduleOf(job);
  if (schedule === undefined) return fromJobId(job.id ?? '');
  const key = tickKey(schedule, tickOf(job));
  if (isValidKey(key)) return key;
  return (key as string).replace(/[^A-Za-z0-9_.:-]/g, '_').slice(-200);
}

/** The tick time of a job scheduler's job (its id ends with it). */
export function tickOf(job: JobIdentity): number {
  if (job.data?.tick !== undefined) return job.data.tick;
  const id = job.id ?? '';
  const tick = Number(id.slice(id.lastIndexOf(':') + 1));
  return onGrid(Number.isFinite(tick) ? tick : (job.timestamp ?? 0), job.data?.grid);
}

/** `time`, or the tick of `grid` at or before it. */
export function onGrid(time: number, grid: JobData['grid']): number {
  if (grid === undefined || !(grid.every > 0)) return time;
  return grid.origin + Math.floor((time - grid.origin) / grid.every) * grid.every;
}
