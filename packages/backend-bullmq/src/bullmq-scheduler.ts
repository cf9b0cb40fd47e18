import {
  type ComputationScheduler,
  InvalidScheduleError,
  jsonCodec,
  nextTick,
  type SchedulerContext,
  type ScheduleSpec,
  type ScheduleState,
  type TaskDefinition,
} from '@au/core';
import { checkScheduleSpec, flowGroupsOf } from '@au/core/kit';
import type { JobsOptions, Queue, RepeatOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { AU_BACKOFF_TYPE, type JobData, toBullMQPriority } from './job-options';
import { fromHash, scheduleKeys } from './schedule-hash';

export interface BullMQSchedulerSettings {
  queue: Queue<JobData>;
  redis: Redis;
  prefix: string;
  /** BullMQ job options added to every job, as for launches. */
  jobOptions: JobsOptions;
  context: SchedulerContext;
  /** Called with the task of each schedule made or resumed here (the embedded worker learns it). */
  onTask?(task: TaskDefinition): void;
}

const NAME = 'bullmq';

/**
 * Schedules kept by BullMQ: each au schedule is one BullMQ job scheduler of the same id
 * (cron with its time zone, read by croner, or `every`; `startAt`/`endAt` as its
 * start and end dates), plus a Redis hash with the spec and progress. BullMQ makes one
 * delayed job per tick (id `repeat:<id>:<tick>`), so one worker runs each tick whatever
 * the number of workers; the worker creates the tick's record (`tickKey(id, tick)`)
 * before it runs it. Paused schedules have no job scheduler: their spec stays in the
 * hash and `resume` upserts the job scheduler again from the next tick.
 */
export class BullMQScheduler implements ComputationScheduler {
  readonly name = NAME;
  readonly #settings: BullMQSchedulerSettings;
  readonly #keys: ReturnType<typeof scheduleKeys>;

  constructor(settings: BullMQSchedulerSettings) {
    this.#settings = settings;
    this.#keys = scheduleKeys(settings.prefix, settings.queue.name);
  }

  async upsert(given: ScheduleSpec): Promise<ScheduleState> {
    const checked = checkScheduleSpec(given);
    const task = this.#settings.context.findTask(checked.task);
    if (task === undefined) {
      throw new InvalidScheduleError({
        schedule: checked.id,
        field: 'task',
        problem: `"${checked.task}" is not a task of this process: define it (defineTask) and register it before scheduling it`,
      });
    }
    // `args` come encoded by the task's codec (core's `schedule` parsed them): each run's
    // record gets them as they are.
    const spec = checked;
    if (nextTick(spec, Date.now()) === undefined) {
      throw new InvalidScheduleError({
        schedule: spec.id,
        field: 'endAt',
        problem: 'leaves no tick after now: the schedule would never fire',
      });
    }
    // A key function that throws on the schedule's input refuses it before anything is written.
    this.#flowGroups(spec, task);
    await this.#ready();
    this.#settings.onTask?.(task);
    const { redis } = this.#settings;
    const hashKey = this.#keys.schedule(spec.id);
    const before = fromHash(await redis.hgetall(hashKey));
    const now = Date.now();
    await redis
      .multi()
      .hset(hashKey, {
        spec: JSON.stringify(spec),
        paused: before?.paused ? '1' : '0',
        createdAt: String(before?.createdAt ?? now),
        updatedAt: String(now),
      })
      .hincrby(hashKey, 'revision', 1)
      .sadd(this.#keys.index, spec.id)
      .exec();
    if (!before?.paused) await this.#upsertJobScheduler(spec, task, retimed(before, spec));
    return (await this.get(spec.id))!;
  }

  async pause(id: string): Promise<ScheduleState | undefined> {
    await this.#ready();
    if (!(await this.#setPaused(id, true))) return undefined;
    await this.#settings.queue.removeJobScheduler(id);
    return this.get(id);
  }

  async resume(id: string): Promise<ScheduleState | undefined> {
    await this.#ready();
    const state = await this.get(id);
    if (state === undefined) return undefined;
    if (state.paused) {
      const task = this.#settings.context.findTask(state.task);
      if (task === undefined) {
        throw new InvalidScheduleError({
          schedule: id,
          field: 'task',
          problem: `"${state.task}" is not a task of this process: resume it where the task is defined`,
        });
      }
      this.#settings.onTask?.(task);
      await this.#setPaused(id, false);
      await this.#upsertJobScheduler(specOf(state), task, true);
    }
    return this.get(id);
  }

  async delete(id: string): Promise<boolean> {
    await this.#ready();
    const { redis, queue } = this.#settings;
    await queue.removeJobScheduler(id);
    const replies = (await redis
      .multi()
      .del(this.#keys.schedule(id), this.#keys.line(id))
      .srem(this.#keys.index, id)
      .exec()) as [Error | null, number][];
    return replies[1]?.[1] === 1;
  }

  async get(id: string): Promise<ScheduleState | undefined> {
    await this.#ready();
    const state = fromHash(await this.#settings.redis.hgetall(this.#keys.schedule(id)));
    if (state === undefined) return undefined;
    if (!state.paused) {
      const scheduler = await this.#settings.queue.getJobScheduler(id);
      if (typeof scheduler?.next === 'number') state.nextRunAt = scheduler.next;
    }
    return state;
  }

  async list(): Promise<ScheduleState[]> {
    await this.#ready();
    const ids = (await this.#settings.redis.smembers(this.#keys.index)).sort();
    const states = await Promise.all(ids.map((id) => this.get(id)));
    return states.filter((state): state is ScheduleState => state !== undefined);
  }

  /** The queue and its connection belong to the backend, which closes them. */
  async close(): Promise<void> {}

  // ---- private helpers ------------------------------------------------------------

  /**
   * The concurrency and rate-limit groups of the schedule's runs, from its input (one input
   * for every tick), as a launch computes them; a key function that throws refuses the
   * schedule here.
   */
  #flowGroups(spec: ScheduleSpec, task: TaskDefinition): Pick<JobData, 'concurrency' | 'rateLimit'> {
    if (task.concurrency === undefined && task.rateLimit === undefined) return {};
    const codec = this.#settings.context.launchSettings?.(task)?.codec ?? task.codec ?? jsonCodec;
    const { concurrency, rateLimit } = flowGroupsOf(
      task,
      spec.args === undefined ? undefined : codec.decode(spec.args),
    );
    return {
      ...(concurrency === undefined ? {} : { concurrency }),
      ...(rateLimit === undefined ? {} : { rateLimit }),
    };
  }

  /** The producer connection has no offline queue: a command before it is up fails. */
  async #ready(): Promise<void> {
    await this.#settings.queue.waitUntilReady();
  }

  /** Sets `paused`; `false` when there is no such schedule. */
  async #setPaused(id: string, paused: boolean): Promise<boolean> {
    const hashKey = this.#keys.schedule(id);
    const result = (await this.#settings.redis.eval(
      SET_PAUSED,
      1,
      hashKey,
      paused ? '1' : '0',
      String(Date.now()),
    )) as number;
    return result === 1;
  }

  /**
   * Creates or replaces the BullMQ job scheduler. `every` ticks start at the schedule's
   * next tick (`startAt + n × every`, or a multiple of `every`): BullMQ would otherwise
   * fire at once and count from now. A schedule whose timing did not change keeps
   * BullMQ's place (its next job) for `every`; a cron one is recomputed from now anyway.
   */
  async #upsertJobScheduler(spec: ScheduleSpec, task: TaskDefinition, fromNow: boolean): Promise<void> {
    const repeat: RepeatOptions = {};
    if (spec.cron !== undefined) {
      repeat.pattern = spec.cron;
      repeat.tz = spec.timezone ?? 'UTC';
      if (spec.startAt !== undefined) repeat.startDate = spec.startAt;
    } else {
      repeat.every = spec.every!;
      // A tick a few ms away could pass before BullMQ stores it, and BullMQ would then
      // start from "now": the first tick is one at least START_MARGIN away.
      const first = nextTick(spec, Date.now() + START_MARGIN);
      if (first === undefined) {
        await this.#settings.queue.removeJobScheduler(spec.id);
        return;
      }
      repeat.startDate = first;
    }
    if (spec.endAt !== undefined) repeat.endDate = spec.endAt;
    if (fromNow) await this.#settings.queue.removeJobScheduler(spec.id);
    const attempts = Math.max(1, task.retry?.attempts ?? 1);
    const options: JobsOptions = {
      ...this.#settings.jobOptions,
      priority: toBullMQPriority(spec.priority ?? task.priority ?? 0),
    };
    if (attempts > 1) {
      options.attempts = attempts;
      options.backoff = { type: AU_BACKOFF_TYPE };
    }
    const data: JobData = { task: spec.task, schedule: spec.id, ...this.#flowGroups(spec, task) };
    if (spec.every !== undefined) data.grid = { every: spec.every, origin: spec.startAt ?? 0 };
    await this.#settings.queue.upsertJobScheduler(spec.id, repeat, { name: spec.task, data, opts: options });
  }
}

/** Ms between now and the first `every` tick given to BullMQ. */
const START_MARGIN = 100;

/** Sets `paused` and bumps the revision, only on an existing schedule. */
const SET_PAUSED = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'paused', ARGV[1], 'updatedAt', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'revision', 1)
return 1
`;

/** Whether the timing changed, so that BullMQ's place is dropped. */
function retimed(before: ScheduleState | undefined, spec: ScheduleSpec): boolean {
  if (before === undefined) return true;
  return (
    before.cron !== spec.cron ||
    before.every !== spec.every ||
    before.timezone !== spec.timezone ||
    before.startAt !== spec.startAt
  );
}

/** The spec part of a stored state. */
function specOf(state: ScheduleState): ScheduleSpec {
  const {
    paused: _paused,
    nextRunAt: _next,
    lastRunAt: _lastRunAt,
    lastKey: _lastKey,
    skipped: _skipped,
    lastSkippedAt: _lastSkippedAt,
    createdAt: _createdAt,
    updatedAt: _updatedAt,
    revision: _revision,
    ...spec
  } = state;
  return spec;
}
