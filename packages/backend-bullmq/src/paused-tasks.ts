import { Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { PausedTasksView } from './paused-tasks-view';

/**
 * Tasks paused one by one. BullMQ pauses a whole queue (`queue.pause()`), not one job
 * name, so au keeps the names of paused tasks in a Redis set beside the queue
 * (`<prefix>:<queue>:au:paused`). Each pause and resume announces the whole set with a
 * version (`pausedTasksChannel`), from which every worker keeps a copy (`PausedTasksView`);
 * a worker asks the set itself only for a task its copy holds, or while it has no copy.
 *
 * A worker that takes a job of a paused task does not run it and does not claim its
 * record (it stays `pending`): it **parks** the job — adds its id to the task's parked
 * jobs (`<prefix>:<queue>:au:parked:<task>`, a sorted set in parking order) and
 * moves it to BullMQ's delayed set. Resume takes them and promotes them in the order they
 * were parked, so the task's work starts again in its queue order, at once. The check
 * and the add are one script, and so are resume's removal and its taking of the parked
 * jobs; a worker that parks a job while a resume runs checks again after the move and
 * promotes the job itself (or, paused again meanwhile, lists it again), so no job is left
 * parked after its task is resumed. Parked jobs also come back on their own after
 * `PARK_RECHECK` ms, a safety net should the parked set be lost.
 */
export function pausedTasksKey(prefix: string, queue: string): string {
  return `${prefix}:${queue}:au:paused`;
}

/** The ids of the jobs of `task` parked while it is paused, scored in the order they were parked. */
export function parkedJobsKey(prefix: string, queue: string, task: string): string {
  return `${prefix}:${queue}:au:parked:${task}`;
}

/**
 * Where every change of the paused set is announced, with the whole set and its version
 * (`PausedTasksView` keeps a worker's copy from it).
 */
export function pausedTasksChannel(prefix: string, queue: string): string {
  return `${prefix}:${queue}:au-paused`;
}

/** The paused set's version: raised by every pause and resume, so a copy can tell which is newer. */
function pausedVersionKey(prefix: string, queue: string): string {
  return `${prefix}:${queue}:au:paused-version`;
}

/** The counter that orders parked jobs. */
function parkCounterKey(prefix: string, queue: string): string {
  return `${prefix}:${queue}:au:parked-seq`;
}

/** Parked jobs promoted at once on resume. */
const PROMOTE_BATCH = 200;

/** Ms a parked job stays delayed when no resume promotes it first. */
export const PARK_RECHECK = 5 * 60_000;

// The parked "list" is a sorted set scored by a counter: parking order, and a job parked
// again (after PARK_RECHECK) keeps its first place instead of being listed twice.
// KEYS: paused set, parked set, counter. ARGV: task, job id. 1 when the task is paused.
const PARK_IF_PAUSED = `
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call('ZSCORE', KEYS[2], ARGV[2]) == false then
  redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), ARGV[2])
end
return 1`;

// The paused set as announced and read: '<version> <JSON array of the names>'. (cjson
// encodes an empty table as an object, hence the array built by hand.)
const STATE = `
local function paused_state(set, versionKey)
  local names = redis.call('SMEMBERS', set)
  for i, name in ipairs(names) do names[i] = cjson.encode(name) end
  return (redis.call('GET', versionKey) or '0') .. ' [' .. table.concat(names, ',') .. ']'
end`;

// KEYS: paused set, version, channel. ARGV: task.
const PAUSE = `${STATE}
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('INCR', KEYS[2])
redis.call('PUBLISH', KEYS[3], paused_state(KEYS[1], KEYS[2]))`;

// KEYS: paused set, parked set, version, channel. ARGV: task. The parked job ids in
// parking order, taken.
const RESUME = `${STATE}
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('INCR', KEYS[3])
redis.call('PUBLISH', KEYS[4], paused_state(KEYS[1], KEYS[3]))
local ids = redis.call('ZRANGE', KEYS[2], 0, -1)
redis.call('DEL', KEYS[2])
return ids`;

// KEYS: paused set, version. The state, as announced.
const READ_STATE = `${STATE}
return paused_state(KEYS[1], KEYS[2])`;

/** Where the paused tasks of one queue are kept. */
export interface PausedTasksPlace {
  redis: Redis;
  prefix: string;
  queue: string;
}

export async function pauseTaskIn(place: PausedTasksPlace, task: string): Promise<void> {
  const { redis, prefix, queue } = place;
  await redis.eval(
    PAUSE,
    3,
    pausedTasksKey(prefix, queue),
    pausedVersionKey(prefix, queue),
    pausedTasksChannel(prefix, queue),
    task,
  );
}

/** Takes `task` out of the paused set and promotes its parked jobs, oldest first. */
export async function resumeTaskIn(place: PausedTasksPlace, queue: Queue, task: string): Promise<void> {
  const ids = (await place.redis.eval(
    RESUME,
    4,
    pausedTasksKey(place.prefix, place.queue),
    parkedJobsKey(place.prefix, place.queue, task),
    pausedVersionKey(place.prefix, place.queue),
    pausedTasksChannel(place.prefix, place.queue),
    task,
  )) as string[];
  // Commands on one connection run in the order they are sent, so a batch promoted at
  // once still goes back in parking order.
  for (let start = 0; start < ids.length; start += PROMOTE_BATCH) {
    await Promise.all(ids.slice(start, start + PROMOTE_BATCH).map((id) => promoteParked(queue, id)));
  }
}

/** The paused set and its version, as `pausedTasksChannel` announces them (see `parsePausedState`). */
export async function readPausedState(place: PausedTasksPlace): Promise<string> {
  const { redis, prefix, queue } = place;
  return (await redis.eval(
    READ_STATE,
    2,
    pausedTasksKey(prefix, queue),
    pausedVersionKey(prefix, queue),
  )) as string;
}

/** `'<version> <JSON array>'` as a version and the names; `undefined` for anything else. */
export function parsePausedState(state: string): { version: number; tasks: string[] } | undefined {
  const space = state.indexOf(' ');
  const version = Number(state.slice(0, space));
  if (space < 0 || !Number.isSafeInteger(version)) return undefined;
  try {
    const tasks: unknown = JSON.parse(state.slice(space + 1));
    if (Array.isArray(tasks) && tasks.every((task) => typeof task === 'string')) return { version, tasks };
  } catch {
    // Not ours: ignored.
  }
  return undefined;
}

/** The names of the tasks paused one by one, sorted. */
export async function pausedTasksIn(place: PausedTasksPlace): Promise<string[]> {
  return (await place.redis.smembers(pausedTasksKey(place.prefix, place.queue))).sort();
}

/**
 * For the worker that took `job`: parks it and resolves `true` when its task is paused
 * (the processor then throws BullMQ's `DelayedError`), `false` when it may run. With
 * `view`, a task the worker's copy knows is not paused runs without asking Redis.
 */
export async function parkIfPaused(
  place: PausedTasksPlace,
  job: Job,
  task: string,
  token: string | undefined,
  view?: PausedTasksView,
): Promise<boolean> {
  // The worker's copy of the paused set spares the round trip when it knows the task runs.
  if (view?.mayBePaused(task) === false) return false;
  const park = async () =>
    (await place.redis.eval(
      PARK_IF_PAUSED,
      3,
      pausedTasksKey(place.prefix, place.queue),
      parkedJobsKey(place.prefix, place.queue, task),
      parkCounterKey(place.prefix, place.queue),
      task,
      job.id!,
    )) === 1;
  if (!(await park())) return false;
  try {
    await job.moveToDelayed(Date.now() + PARK_RECHECK, token);
  } catch {
    // The lock is gone (Redis lost it, or the job was handed out meanwhile): BullMQ's
    // stalled check gives the job out again, and the worker that takes it parks it.
    return true;
  }
  // A resume between the check and the move found the job still active and could not
  // promote it: promote it here. Paused again since: the job is listed again, so the
  // next resume promotes it.
  if (!(await park())) await job.promote().catch(() => undefined);
  return true;
}

/** Promotes one parked job; one no longer delayed (cancelled, already promoted) is skipped. */
async function promoteParked(queue: Queue, id: string): Promise<void> {
  const job = await Job.fromId(queue, id).catch(() => undefined);
  await job?.promote().catch(() => undefined);
}
