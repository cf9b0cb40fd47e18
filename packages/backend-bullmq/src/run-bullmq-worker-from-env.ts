import {
  type ComputationStore,
  ConfigError,
  configFromEnv,
  type Middleware,
  type TaskLogger,
  type TaskRegistry,
} from '@au/core';
import { redisUrlFromEnv } from './backend-provider';
import { stallSettingsFromEnv } from './stall-settings-from-env';
import { type BullMQWorker, startBullMQWorker } from './start-bullmq-worker';

export interface RunBullMQWorkerFromEnvOptions {
  /** @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** Imports store packages from the application's `node_modules` (see `configFromEnv`). */
  importModule?: (name: string) => Promise<Record<string, unknown>>;
  /** A store already built (e.g. by the job server); else `AU_STORE` is opened (and closed on close). */
  store?: ComputationStore;
  /** Tasks already loaded; else `AU_TASKS` is loaded. */
  tasks?: TaskRegistry;
  middleware?: readonly Middleware[];
  logger?: TaskLogger;
}

/** A worker started from the environment; `close` also closes the store it opened. */
export interface BullMQWorkerFromEnv extends BullMQWorker {
  readonly store: ComputationStore;
  readonly queueName: string;
}

/**
 * What the job server's `worker` command runs: a BullMQ worker configured by the same
 * environment as the server. `AU_STORE` (the records; a `redis://` URL), `AU_TASKS`
 * (task modules, required), `AU_REDIS_URL` (the queue's Redis; default the `AU_STORE`
 * URL), `AU_QUEUE` (default `au`), `AU_BULLMQ_PREFIX` (default `bull`),
 * `AU_CONCURRENCY` (jobs at once, default 10), and the stalled-job timings
 * `AU_BULLMQ_LOCK_DURATION_MS`, `AU_BULLMQ_STALLED_INTERVAL_MS`, `AU_BULLMQ_MAX_STALLED_COUNT`
 * (BullMQ's defaults when unset). Start as many as you like, on as many machines as you like.
 */
export async function runBullMQWorkerFromEnv(
  options: RunBullMQWorkerFromEnvOptions = {},
): Promise<BullMQWorkerFromEnv> {
  const env = options.env ?? process.env;
  const stall = stallSettingsFromEnv(env);
  let store = options.store;
  let tasks = options.tasks;
  let concurrency: number | undefined;
  let ownedStore: ComputationStore | undefined;
  if (store === undefined || tasks === undefined) {
    // The store and tasks as the server builds them; the worker needs no producer.
    const config = await configFromEnv({
      env: { ...env, AU_BACKEND: 'inline' },
      ...(options.importModule === undefined ? {} : { importModule: options.importModule }),
    });
    await config.backend.close();
    if (store === undefined) {
      store = config.store;
      ownedStore = config.store;
    } else await config.store.close();
    tasks ??= config.tasks;
    concurrency = config.concurrency;
  } else if (env.AU_CONCURRENCY) concurrency = Number(env.AU_CONCURRENCY);
  if (tasks.size === 0) {
    await ownedStore?.close();
    throw new ConfigError({
      setting: 'AU_TASKS',
      message: 'a BullMQ worker needs task modules: set AU_TASKS to a comma-separated list of module paths',
    });
  }
  if (!store.capabilities.shared) {
    await ownedStore?.close();
    throw new ConfigError({
      setting: 'AU_STORE',
      message: `a BullMQ worker needs a store other processes see (e.g. redis://…), not "${store.name}"`,
    });
  }
  const queueName = env.AU_QUEUE || 'au';
  const worker = await startBullMQWorker({
    connection: redisUrlFromEnv(env),
    queue: queueName,
    prefix: env.AU_BULLMQ_PREFIX || 'bull',
    tasks,
    store,
    concurrency: concurrency ?? 10,
    ...stall,
    ...(options.middleware === undefined ? {} : { middleware: options.middleware }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  return {
    worker: worker.worker,
    tasks: worker.tasks,
    store,
    queueName,
    get runningCount() {
      return worker.runningCount;
    },
    async close(closeOptions) {
      await worker.close(closeOptions);
      await ownedStore?.close();
    },
  };
}
