import type { BackendProvider } from '@au/core/kit';
import { BullMQBackend } from './bullmq-backend';
import { stallSettingsFromEnv } from './stall-settings-from-env';

/**
 * `AU_BACKEND=bullmq`: a BullMQBackend on `AU_REDIS_URL`, else the `AU_STORE` Redis URL,
 * else `redis://127.0.0.1:6379`; queue `AU_QUEUE` (default `au`), BullMQ prefix
 * `AU_BULLMQ_PREFIX` (default `bull`). With `AU_TASKS`, launches of other tasks are
 * refused at once. `AU_BULLMQ_EMBEDDED_WORKER=true` also runs a worker in this process
 * (concurrency `AU_CONCURRENCY`, default 10; stalled-job timings
 * `AU_BULLMQ_LOCK_DURATION_MS`, `AU_BULLMQ_STALLED_INTERVAL_MS`, `AU_BULLMQ_MAX_STALLED_COUNT`);
 * otherwise run workers with the job server's `worker` command (`runBullMQWorkerFromEnv`).
 */
export const backendProvider: BackendProvider = {
  matches: (value) => value === 'bullmq',
  create: ({ env, store, concurrency, maxQueued, tasks, taskModules, middleware, logger }) => {
    const embedded = /^(1|true|yes)$/i.test(env.AU_BULLMQ_EMBEDDED_WORKER ?? '');
    // Read (and checked) even without an embedded worker: a typo fails at start-up.
    const stall = stallSettingsFromEnv(env);
    return new BullMQBackend({
      connection: redisUrlFromEnv(env),
      queue: env.AU_QUEUE || 'au',
      prefix: env.AU_BULLMQ_PREFIX || 'bull',
      ...(taskModules.length > 0 ? { tasks } : {}),
      ...(maxQueued === undefined ? {} : { maxQueued }),
      ...(logger === undefined ? {} : { logger }),
      ...(embedded
        ? {
            worker: {
              store,
              concurrency: concurrency ?? 10,
              tasks,
              ...stall,
              ...(middleware === undefined ? {} : { middleware }),
            },
          }
        : {}),
    });
  },
};

/** The Redis URL of the queue: `AU_REDIS_URL`, else a Redis `AU_STORE`, else the local default. */
export function redisUrlFromEnv(env: Readonly<Record<string, string | undefined>>): string {
  if (env.AU_REDIS_URL) return env.AU_REDIS_URL;
  if (env.AU_STORE !== undefined && /^rediss?:\/\//.test(env.AU_STORE)) return env.AU_STORE;
  return 'redis://127.0.0.1:6379';
}
