import { Cron } from 'croner';
import type { ScheduleSpec } from '../contracts/scheduler';

/** What `nextTick` reads of a schedule. */
export type ScheduleTiming = Pick<ScheduleSpec, 'cron' | 'every' | 'timezone' | 'startAt' | 'endAt'>;

// Parsed cron patterns by pattern and zone: a firer asks for the next tick often.
const patterns = new Map<string, Cron>();
const MAX_CACHED_PATTERNS = 500;

/**
 * The first tick of the schedule strictly after `after` (ms since the epoch), or
 * `undefined` when there is none (past `endAt`). `every` ticks fall at `startAt + n × every`,
 * or at multiples of `every` since the epoch without `startAt`, so every firer computes
 * the same times. A cron expression is read by croner, in `timezone` (UTC by default).
 */
export function nextTick(timing: ScheduleTiming, after: number): number | undefined {
  let tick: number | undefined;
  if (timing.every !== undefined) {
    const origin = timing.startAt ?? 0;
    const from = Math.max(after, origin - 1);
    tick = origin + (Math.floor((from - origin) / timing.every) + 1) * timing.every;
  } else if (timing.cron !== undefined) {
    const from = timing.startAt === undefined ? after : Math.max(after, timing.startAt - 1);
    tick = cronFor(timing.cron, timing.timezone).nextRun(new Date(from))?.getTime();
  }
  if (tick === undefined || (timing.endAt !== undefined && tick > timing.endAt)) return undefined;
  return tick;
}

/** The parsed pattern; throws croner's error on a bad expression or zone. */
export function cronFor(cron: string, timezone = 'UTC'): Cron {
  const cacheKey = `${timezone} ${cron}`;
  let pattern = patterns.get(cacheKey);
  if (pattern === undefined) {
    // No callback: croner computes times only and starts no timer.
    pattern = new Cron(cron, { timezone });
    if (patterns.size >= MAX_CACHED_PATTERNS) patterns.clear();
    patterns.set(cacheKey, pattern);
  }
  return pattern;
}
