import {
  type Codec,
  type ComputationRecord,
  type ComputationStore,
  KeyExistsError,
  scheduleTag,
  type TaskDefinition,
  type TaskLogger,
} from '@au/core';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { type JobData, tickOf } from './job-options';
import { claimWait, clearWait, fromHash, recordRun, recordSkip, type ScheduleKeys } from './schedule-hash';

export interface ScheduledJobSettings {
  redis: Redis;
  keys: ScheduleKeys;
  store: ComputationStore;
  logger: TaskLogger;
}

/** How often a tick that waits for the earlier run (overlap `queue`) looks at it again. */
const WAIT_POLL = 100;

/**
 * Makes sure the tick a job scheduler's job stands for has its record, before the worker
 * runs it: BullMQ makes the job, nobody launched it. For an au schedule the record gets
 * the schedule's input, tags and priority, and the overlap policy and catch-up window
 * are applied here (a dropped tick is counted in the schedule, and no record is made). A
 * job scheduler or repeat made outside au gets a record from the job's data.
 * Returns `false` when the tick is dropped.
 */
export async function prepareScheduledJob(
  job: Job<JobData>,
  key: string,
  task: Pick<TaskDefinition, 'name' | 'priority' | 'ttl'>,
  run: { codec: Codec; maxAttempts: number; signal: AbortSignal | undefined },
  settings: ScheduledJobSettings,
): Promise<boolean> {
  const { store, redis, logger } = settings;
  // A retry or a second delivery of the tick: the record is there.
  if ((await store.get(key)) !== undefined) return true;
  const scheduleId = job.repeatJobKey!;
  const hashKey = settings.keys.schedule(scheduleId);
  const state = fromHash(await redis.hgetall(hashKey));
  const tick = tickOf(job);
  const now = Date.now();
  const record: ComputationRecord = {
    key,
    task: task.name,
    status: 'pending',
    attempt: 0,
    maxAttempts: run.maxAttempts,
    priority: task.priority ?? 0,
    tags: [scheduleTag(scheduleId)],
    createdAt: now,
  };
  if (task.ttl !== undefined) record.ttl = task.ttl;
  if (state === undefined) {
    // Made outside au: the input is `args` of au-shaped data, else the data itself.
    record.args = job.data.task === undefined ? run.codec.encode(job.data) : job.data.args;
  } else {
    const drop = async (why: string) => {
      await recordSkip(redis, hashKey, tick);
      logger.info(
        { schedule: scheduleId, key, tick },
        `[au] [bullmq] schedule "${scheduleId}": tick ${new Date(tick).toISOString()} dropped (${why})`,
      );
      return false;
    };
    if (state.paused) return drop('the schedule is paused');
    if (state.endAt !== undefined && tick > state.endAt) return drop('past the end of the schedule');
    if (state.catchUp !== undefined && now - tick > state.catchUp)
      return drop('older than the catch-up window');
    if (state.overlap !== 'allow' && state.lastKey !== undefined && state.lastKey !== key) {
      if (await isActive(store, state.lastKey)) {
        if (state.overlap === 'skip')
          return drop(`the run of the earlier tick, "${state.lastKey}", is still active`);
        if (!(await claimWait(redis, hashKey, key)))
          return drop('another tick already waits for the earlier run');
        try {
          while (await isActive(store, state.lastKey)) {
            if (run.signal?.aborted) return false;
            await new Promise((resolve) => setTimeout(resolve, WAIT_POLL));
          }
        } finally {
          await clearWait(redis, hashKey, key);
        }
      }
    }
    if (state.args !== undefined) record.args = state.args;
    record.tags = [scheduleTag(scheduleId), ...(state.tags ?? [])];
    if (state.priority !== undefined) record.priority = state.priority;
    if (state.ttl !== undefined) record.ttl = state.ttl;
  }
  try {
    await store.create(record);
  } catch (error) {
    if (!KeyExistsError.isInstance(error)) throw error;
  }
  if (state !== undefined) await recordRun(redis, hashKey, tick, key);
  return true;
}

async function isActive(store: ComputationStore, key: string): Promise<boolean> {
  const record = await store.get(key);
  return record?.status === 'pending' || record?.status === 'running';
}
