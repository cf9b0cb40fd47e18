import type { Redis } from 'ioredis';

/**
 * The jobs of one task waiting to start, for a per-task `maxQueued`: BullMQ cannot count
 * its queue by job name without reading every job, so au keeps a Redis set of job ids
 * per task. The producer adds a job's id in the transaction that adds the job
 * (`createAndLaunch`), or else before it adds the job (and takes it out again when the add
 * fails); the worker takes it out when the job starts; a cancel takes it out with the job.
 * Only tasks with a `maxQueued` are tracked.
 */
export function queuedJobsKey(prefix: string, queue: string, task: string): string {
  return `${prefix}:${queue}:au:queued:${task}`;
}

/** Adds `jobIds` of `task` to its set. */
export async function trackQueued(redis: Redis, key: string, jobIds: readonly string[]): Promise<void> {
  if (jobIds.length > 0) await redis.sadd(key, ...jobIds);
}

/** Takes `jobIds` out of the set; errors are dropped (a stale member only makes the count high). */
export async function untrackQueued(redis: Redis, key: string, jobIds: readonly string[]): Promise<void> {
  if (jobIds.length > 0) await redis.srem(key, ...jobIds).catch(() => undefined);
}
