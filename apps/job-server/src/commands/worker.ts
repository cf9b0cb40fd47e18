import type { ResolvedConfig } from '@au/config';
import { pino } from 'pino';
import { UsageError } from '../errors/usage-error';
import { KNOWN_BACKENDS } from '../known-backends';
import { importModule, loadConfig, readConfiguration, withTaskModules } from '../load-config';
import type { ServerSettings } from '../server-settings';
import { tracingMiddleware } from '../tracing';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * `job-server worker`: runs tasks from a distributed backend's queue (BullMQ,
 * Postgres, Supabase) without serving HTTP, configured like the server (preset,
 * config file, environment; the sample tasks and `AU_TASKS`). With a local backend (inline, threads,
 * process) there is no queue to take work from: it says so and exits with code 2.
 */
export async function run({ env, configFile }: { env: Env; configFile?: string }): Promise<void> {
  const { resolved, settings } = await readConfiguration(env, configFile === undefined ? {} : { configFile });
  // The preset always names a backend, so this is what the server would run.
  const backendName = resolved.env.AU_BACKEND?.trim() ?? '';
  const known = KNOWN_BACKENDS.find((item) => item.value === backendName);
  if (known === undefined || !known.distributed) {
    throw new UsageError(
      `the worker command takes work from a distributed backend's queue, and AU_BACKEND=${backendName}${origin(resolved, 'AU_BACKEND')} runs work inside the server itself: start the server instead (npx --yes pnpm@10 start), or set AU_BACKEND to bullmq, postgres or supabase`,
    );
  }
  const logger = pino({ name: 'au-worker', level: settings.logLevel });
  const close = await startWorker(backendName, resolved, settings, logger);
  logger.info({ backend: backendName }, 'au worker started: waiting for work');
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'au worker stopping: running work may finish');
    close(settings.shutdownTimeout).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'the worker did not stop cleanly');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

async function startWorker(
  backendName: string,
  resolved: ResolvedConfig,
  settings: ServerSettings,
  logger: pino.Logger,
): Promise<(timeout: number) => Promise<void>> {
  const middleware = await tracingMiddleware(settings);
  if (backendName === 'bullmq') {
    const { runBullMQWorkerFromEnv } = await import('@au/backend-bullmq');
    const worker = await runBullMQWorkerFromEnv({
      env: withTaskModules(resolved.env, settings),
      importModule,
      logger,
      middleware,
    });
    return (timeout) => worker.close({ timeout });
  }
  // The Postgres and Supabase backends run queue workers in-process whenever they are
  // given task modules, which `loadConfig` always passes (the samples at least).
  const config = await loadConfig(resolved, settings, middleware, logger);
  return async (timeout) => {
    await config.backend.close({ timeout });
    await config.store.close();
  };
}

/** ` (set by au.config.yaml, key "backend")` when the file or the preset chose the value. */
function origin(resolved: ResolvedConfig, variable: string): string {
  const source = resolved.origins[variable];
  return source === undefined ? '' : ` (set by ${source})`;
}
