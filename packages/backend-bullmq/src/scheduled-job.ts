import {
  type Codec,
  type ComputationRecord,
  type ComputationStore,
  DEFAULT_CATCH_UP,
  KeyExistsError,
  nextTick,
  type ScheduleState,
  scheduleTag,
  type TaskDefinition,
  type TaskLogger,
  tickKey,
} from '@au/core';
import { CONCURRENCY_KEY_META, RATE_LIMIT_KEY_META } from '@au/core/kit';
import type { Job, JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { type JobData, onGrid, scheduleOf, tickOf, toJobId } from './job-options';
import { fromHash, joinLine, leaveLine, recordRun, recordSkip, type ScheduleKeys } from './schedule-hash';

export interface ScheduledJobSettings {
  /** The queue, to add the jobs of ticks BullMQ skipped. */
  queue: Queue<JobData>;
  /** BullMQ's sorted set of job schedulers by next time (`<prefix>:<queue>:repeat`). */
  repeatKey: string;
  redis: Redis;
  keys: ScheduleKeys;
  store: ComputationStore;
  logger: TaskLogger;
}

/** How often a tick that waits its turn (overlap `queue`) looks again. */
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
  const scheduleId = scheduleOf(job)!;
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
  // Its groups' keys, as a launch keeps them: a retry of the run finds its groups again.
  const meta: Record<string, string> = {};
  if (job.data.concurrency !== undefined) meta[CONCURRENCY_KEY_META] = job.data.concurrency.key;
  if (job.data.rateLimit !== undefined) meta[RATE_LIMIT_KEY_META] = job.data.rateLimit.key;
  if (Object.keys(meta).length > 0) record.meta = meta;
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
    if (job.repeatJobKey !== undefined) await catchUpSkippedTicks(job, tick, state, settings);
    if (state.endAt !== undefined && tick > state.endAt) return drop('past the end of the schedule');
    if (state.catchUp !== undefined && now - tick > state.catchUp)
      return drop('older than the catch-up window');
    if (state.overlap === 'skip' && state.lastKey !== undefined && state.lastKey !== key) {
      if (await isActive(store, state.lastKey)) {
        return drop(`the run of the earlier tick, "${state.lastKey}", is still active`);
      }
    }
    if (state.overlap === 'queue') {
      const waited = await waitTurn(
        settings,
        scheduleId,
        key,
        tick,
        state.catchUp ?? DEFAULT_CATCH_UP,
        run.signal,
      );
      if (waited !== 'turn') return waited === 'late' ? drop('older than the catch-up window') : false;
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
  if (state !== undefined) {
    await recordRun(redis, hashKey, tick, key);
    if (state.overlap === 'queue') await leaveLine(redis, settings.keys.line(scheduleId), key);
  }
  return true;
}

/**
 * Overlap `queue`: ticks take turns in the order their jobs came (BullMQ makes each tick's
 * job once the one before starts), one run at a time. A tick's turn comes when it heads
 * the schedule's line and the last run has ended; a tick that falls out of the catch-up
 * window while it waits is dropped, and so is a stale head left by a worker that died.
 */
async function waitTurn(
  settings: ScheduledJobSettings,
  scheduleId: string,
  key: string,
  tick: number,
  catchUp: number,
  signal: AbortSignal | undefined,
): Promise<'turn' | 'late' | 'aborted'> {
  const { redis, store } = settings;
  const lineKey = settings.keys.line(scheduleId);
  const hashKey = settings.keys.schedule(scheduleId);
  for (;;) {
    if (signal?.aborted) return 'aborted';
    const oldest = Date.now() - catchUp;
    if (tick < oldest) {
      await leaveLine(redis, lineKey, key);
      return 'late';
    }
    const [spec, paused, lastKey] = await redis.hmget(hashKey, 'spec', 'paused', 'lastKey');
    if (spec === null || paused === '1') {
      // Deleted or paused meanwhile: this tick no longer runs.
      await leaveLine(redis, lineKey, key);
      return 'aborted';
    }
    const head = await joinLine(redis, lineKey, key);
    if (head === key) {
      if (lastKey === null || lastKey === undefined || lastKey === key || !(await isActive(store, lastKey)))
        return 'turn';
    } else if (tickOfKey(head) < oldest) await leaveLine(redis, lineKey, head);
    await new Promise((resolve) => setTimeout(resolve, WAIT_POLL));
  }
}

/**
 * BullMQ makes the job of a scheduler's next tick when a tick's job starts, from the time
 * it starts: ticks between a late tick and that next one get no job (all workers were
 * down, or busy). The worker of the late tick adds a job for each of them that is inside
 * the catch-up window, keyed like any tick (job id = the tick's key), so each runs once.
 */
async function catchUpSkippedTicks(
  job: Job<JobData>,
  tick: number,
  state: ScheduleState,
  settings: ScheduledJobSettings,
): Promise<void> {
  const score = await settings.redis.zscore(settings.repeatKey, state.id);
  if (score === null) return;
  // The tick BullMQ's next job stands for (see `onGrid`).
  const next = onGrid(Number(score), job.data.grid);
  const oldest = Date.now() - (state.catchUp ?? DEFAULT_CATCH_UP);
  // The template's options that matter for a run: its priority, attempts and removal.
  const { priority, attempts, backoff, removeOnComplete, removeOnFail } = job.opts;
  const template = Object.fromEntries(
    Object.entries({ priority, attempts, backoff, removeOnComplete, removeOnFail }).filter(
      ([, value]) => value !== undefined,
    ),
  ) as JobsOptions;
  const jobs: { name: string; data: JobData; opts: JobsOptions }[] = [];
  for (
    let missed = nextTick(state, tick);
    missed !== undefined && missed < next && jobs.length < MAX_CAUGHT_UP;
    missed = nextTick(state, missed)
  ) {
    if (missed < oldest) continue;
    jobs.push({
      name: job.name,
      data: {
        task: job.data.task,
        schedule: state.id,
        tick: missed,
        ...(job.data.concurrency === undefined ? {} : { concurrency: job.data.concurrency }),
        ...(job.data.rateLimit === undefined ? {} : { rateLimit: job.data.rateLimit }),
      },
      opts: { ...template, jobId: toJobId(tickKey(state.id, missed)) },
    });
  }
  if (jobs.length === 0) return;
  settings.logger.info(
    { schedule: state.id, ticks: jobs.map((item) => item.data.tick) },
    `[au] [bullmq] schedule "${state.id}": ${jobs.length} tick(s) BullMQ skipped are caught up`,
  );
  await settings.queue.addBulk(jobs);
}

/** Ticks one late tick catches up at most. */
const MAX_CAUGHT_UP = 100;

function tickOfKey(key: string): number {
  return Number(key.slice(key.lastIndexOf(':') + 1));
}

async function isActive(store: ComputationStore, key: string): Promise<boolean> {
  const record = await store.get(key);
  return record?.status === 'pending' || record?.status === 'running';
}
