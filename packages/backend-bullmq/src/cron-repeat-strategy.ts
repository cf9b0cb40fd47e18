import { Cron } from 'croner';

/** What BullMQ passes a repeat strategy (the parts au reads). */
interface RepeatTiming {
  pattern?: string;
  tz?: string;
  startDate?: Date | string | number;
  endDate?: Date | string | number;
}

// Parsed patterns by zone and pattern: a worker asks for the next tick of each job.
const patterns = new Map<string, Cron>();
const MAX_CACHED_PATTERNS = 500;

/**
 * BullMQ's `repeatStrategy` (queue and worker settings), with croner reading the cron
 * expression in the schedule's time zone (UTC by default) instead of BullMQ's own parser,
 * so that BullMQ fires cron schedules at the times every other au scheduler computes. The
 * first tick strictly after `millis`, not before `startDate`; `undefined` past `endDate`
 * (BullMQ then makes no next job).
 */
export function cronRepeatStrategy(millis: number, options: RepeatTiming): number | undefined {
  if (options.pattern === undefined) return undefined;
  const timezone = options.tz ?? 'UTC';
  const cacheKey = `${timezone} ${options.pattern}`;
  let cron = patterns.get(cacheKey);
  if (cron === undefined) {
    cron = new Cron(options.pattern, { timezone });
    if (patterns.size >= MAX_CACHED_PATTERNS) patterns.clear();
    patterns.set(cacheKey, cron);
  }
  const startAt = options.startDate === undefined ? undefined : new Date(options.startDate).getTime();
  const from = startAt === undefined ? millis : Math.max(millis, startAt - 1);
  const tick = cron.nextRun(new Date(from))?.getTime();
  const endAt = options.endDate === undefined ? undefined : new Date(options.endDate).getTime();
  if (tick === undefined || (endAt !== undefined && tick > endAt)) return undefined;
  return tick;
}
