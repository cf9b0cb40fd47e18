import { type Clock, systemClock } from '../clock';
import type { Middleware } from '../contracts/middleware';
import { RateLimitError } from '../errors/rate-limit-error';

export interface RateLimitOptions {
  /** Launches allowed per window. */
  limit: number;
  /** Window length in ms. @default 1000 */
  window?: number;
  /** Separate budgets per task (`true`) or one for all. @default true */
  perTask?: boolean;
  clock?: Clock;
}

/**
 * Refuses launches past `limit` per `window` with `RateLimitError` (launch side, in the
 * caller, before anything is written). A sliding window over launch times.
 */
export function RateLimitMiddleware({
  limit,
  window = 1000,
  perTask = true,
  clock = systemClock,
}: RateLimitOptions): Middleware {
  if (!(Number.isInteger(limit) && limit >= 1))
    throw new TypeError(`[au] RateLimitMiddleware: limit must be an integer ≥ 1`);
  if (!(window > 0)) throw new TypeError('[au] RateLimitMiddleware: window must be > 0 ms');
  const launches = new Map<string, number[]>();
  return {
    name: 'rate-limit',
    async launch(context, next) {
      const bucket = perTask ? context.task : '*';
      const now = clock.now();
      const times = (launches.get(bucket) ?? []).filter((time) => time > now - window);
      if (times.length >= limit) {
        launches.set(bucket, times);
        throw new RateLimitError({
          task: context.task,
          retryAfter: Math.max(0, times[0]! + window - now),
          limit: `${limit} per ${window} ms`,
        });
      }
      times.push(now);
      launches.set(bucket, times);
      return next();
    },
  };
}
