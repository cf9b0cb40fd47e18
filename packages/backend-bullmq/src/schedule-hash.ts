import type { ScheduleSpec, ScheduleState } from '@au/core';
import type { Redis } from 'ioredis';

/**
 * Where au keeps a schedule on BullMQ: one Redis hash per schedule beside the queue's
 * keys, and one set of ids. The hash holds the spec (JSON), `paused`, and the progress
 * fields the workers write as ticks run. BullMQ's job scheduler of the same id holds only
 * the timing; a paused schedule has none (BullMQ has no pause for one scheduler).
 */
export interface ScheduleKeys {
  /** The set of schedule ids. */
  index: string;
  /** The hash of one schedule. */
  schedule(id: string): string;
  /** The keys of a schedule's ticks that wait their turn (overlap `queue`), oldest first. */
  line(id: string): string;
}

export function scheduleKeys(prefix: string, queue: string): ScheduleKeys {
  return {
    index: `${prefix}:${queue}:au:schedules`,
    schedule: (id) => `${prefix}:${queue}:au:schedule:${id}`,
    line: (id) => `${prefix}:${queue}:au:schedule-line:${id}`,
  };
}

/** The stored hash read back as a state (without `nextRunAt`, which BullMQ holds). */
export function fromHash(fields: Record<string, string>): ScheduleState | undefined {
  if (fields.spec === undefined) return undefined;
  const spec = JSON.parse(fields.spec) as ScheduleSpec;
  const state: ScheduleState = {
    ...spec,
    paused: fields.paused === '1',
    createdAt: Number(fields.createdAt),
    updatedAt: Number(fields.updatedAt),
    revision: Number(fields.revision ?? 0),
  };
  if (fields.lastRunAt !== undefined) state.lastRunAt = Number(fields.lastRunAt);
  if (fields.lastKey !== undefined) state.lastKey = fields.lastKey;
  if (fields.skipped !== undefined) state.skipped = Number(fields.skipped);
  if (fields.lastSkippedAt !== undefined) state.lastSkippedAt = Number(fields.lastSkippedAt);
  return state;
}

/**
 * Records the run of a tick: `lastRunAt` and `lastKey` move forward only (a late retry
 * of an older tick leaves them), in one step.
 */
const RECORD_RUN = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local last = tonumber(redis.call('HGET', KEYS[1], 'lastRunAt') or '-1')
if tonumber(ARGV[1]) > last then
  redis.call('HSET', KEYS[1], 'lastRunAt', ARGV[1], 'lastKey', ARGV[2], 'updatedAt', ARGV[3])
  redis.call('HINCRBY', KEYS[1], 'revision', 1)
end
return 1
`;

/** Counts a dropped tick, when the schedule still exists. */
const RECORD_SKIP = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'skipped', 1)
local last = tonumber(redis.call('HGET', KEYS[1], 'lastSkippedAt') or '-1')
if tonumber(ARGV[1]) > last then redis.call('HSET', KEYS[1], 'lastSkippedAt', ARGV[1]) end
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'revision', 1)
return 1
`;

/** Puts `ARGV[1]` at the end of the line unless it is in it; returns the key at its head. */
const JOIN_LINE = `
local found = false
for _, item in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  if item == ARGV[1] then found = true break end
end
if not found then redis.call('RPUSH', KEYS[1], ARGV[1]) end
return redis.call('LINDEX', KEYS[1], 0)
`;

export async function recordRun(redis: Redis, hashKey: string, tick: number, key: string): Promise<void> {
  await redis.eval(RECORD_RUN, 1, hashKey, String(tick), key, String(Date.now()));
}

export async function recordSkip(redis: Redis, hashKey: string, tick: number): Promise<void> {
  await redis.eval(RECORD_SKIP, 1, hashKey, String(tick), String(Date.now()));
}

/** Puts the tick `key` in the schedule's line (once); resolves with the key at its head. */
export async function joinLine(redis: Redis, lineKey: string, key: string): Promise<string> {
  return (await redis.eval(JOIN_LINE, 1, lineKey, key)) as string;
}

/** Takes the tick `key` out of the line. */
export async function leaveLine(redis: Redis, lineKey: string, key: string): Promise<void> {
  await redis.lrem(lineKey, 0, key);
}
