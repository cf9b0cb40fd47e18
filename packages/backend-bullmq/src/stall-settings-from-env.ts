import { integerFromEnv } from '@au/core/kit';

type Env = Readonly<Record<string, string | undefined>>;

/** The stalled-job timings of a BullMQ worker, as the environment sets them. */
export interface StallSettings {
  lockDuration?: number;
  stalledInterval?: number;
  maxStalledCount?: number;
}

/**
 * `AU_BULLMQ_LOCK_DURATION_MS` (how long a job's lock lasts without renewal),
 * `AU_BULLMQ_STALLED_INTERVAL_MS` (how often stalled jobs are looked for) and
 * `AU_BULLMQ_MAX_STALLED_COUNT` (stalls before a job fails). Unset ones keep BullMQ's
 * defaults; a bad value is a `ConfigError` naming the variable.
 */
export function stallSettingsFromEnv(env: Env): StallSettings {
  const settings: StallSettings = {};
  const lockDuration = integerFromEnv(env, 'AU_BULLMQ_LOCK_DURATION_MS', 1000, 24 * 3_600_000);
  if (lockDuration !== undefined) settings.lockDuration = lockDuration;
  const stalledInterval = integerFromEnv(env, 'AU_BULLMQ_STALLED_INTERVAL_MS', 100, 24 * 3_600_000);
  if (stalledInterval !== undefined) settings.stalledInterval = stalledInterval;
  const maxStalledCount = integerFromEnv(env, 'AU_BULLMQ_MAX_STALLED_COUNT', 0, 1000);
  if (maxStalledCount !== undefined) settings.maxStalledCount = maxStalledCount;
  return settings;
}
