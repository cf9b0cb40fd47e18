import type { LoadedConfig } from '@au/config';
import type { Middleware } from '@au/core';
import type { FastifyInstance } from 'fastify';
import { type Logger, pino } from 'pino';
import { buildServer } from './build-server';
import { checkConnections } from './check-connections';
import { failInterrupted } from './fail-interrupted';
import { type ConfigFileOptions, loadConfig, readConfiguration } from './load-config';
import type { ServerSettings } from './server-settings';
import { tracingMiddleware } from './tracing';

type Env = Readonly<Record<string, string | undefined>>;

/** How `startServer` finds its configuration, and what it adds to it when embedded. */
export interface StartServerOptions extends ConfigFileOptions {
  /**
   * Middleware of every launch and run, after the server's own (tracing): e.g. one with a
   * `deadLetter` hook (`defineMiddleware({ name, onDeadLetter })`), also told of the work
   * a previous process left unfinished, failed at start-up. @default []
   */
  middleware?: readonly Middleware[];
}

/** A listening job server. */
export interface RunningServer {
  app: FastifyInstance;
  config: LoadedConfig;
  settings: ServerSettings;
  logger: Logger;
  /** e.g. `http://127.0.0.1:8080` */
  url: string;
  /**
   * Graceful stop: stop accepting requests (open waits answer 202, event streams end),
   * let running work finish up to `AU_SHUTDOWN_TIMEOUT_MS` (the backend cancels what is
   * left, and says so in the records), then close the store.
   */
  close(): Promise<void>;
}

/**
 * Reads the configuration (preset, config file, environment), opens the store and
 * backend, checks that both answer (else throws `StartupCheckError`), reports
 * interrupted work, and listens.
 */
export async function startServer(
  env: Env,
  logger?: Logger,
  options: StartServerOptions = {},
): Promise<RunningServer> {
  const { middleware: extra = [], ...configFile } = options;
  const { resolved, settings } = await readConfiguration(env, configFile);
  const log = logger ?? pino({ name: 'au-job-server', level: settings.logLevel });
  const middleware = [...(await tracingMiddleware(settings)), ...extra];
  // Also run-side, for the queue workers the backend may run here (work of other processes).
  const config = await loadConfig(resolved, settings, middleware, log);
  let app: FastifyInstance | undefined;
  try {
    await checkConnections(config);
    await failInterrupted(config.store, config.backend, { logger: log, middleware });
    app = await buildServer({
      store: config.store,
      backend: config.backend,
      tasks: config.tasks,
      ttl: config.ttl,
      settings,
      logger: log,
      middleware,
    });
    await app.listen({ host: settings.host, port: settings.port });
  } catch (error) {
    await app?.close().catch(() => undefined);
    await config.close().catch(() => undefined);
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : settings.port;
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  const url = `http://${host}:${port}`;
  log.info(
    {
      url,
      docs: `${url}/docs`,
      preset: `${config.preset.name} (${config.preset.source})`,
      configFile: config.file?.path ?? null,
      store: config.describe.store,
      backend: config.describe.backend,
      tasks: config.tasks.names(),
      tracing: settings.tracing,
    },
    `au job server listening on ${url}: API docs at ${url}/docs`,
  );
  const server = app;
  let closing: Promise<void> | undefined;
  return {
    app: server,
    config,
    settings,
    logger: log,
    url,
    close() {
      closing ??= (async () => {
        await server.close();
        let failure: unknown;
        await config.backend.close({ timeout: settings.shutdownTimeout }).catch((error: unknown) => {
          failure = error;
          log.error({ err: error }, 'the backend did not close cleanly');
        });
        await config.store.close();
        if (failure !== undefined) throw failure;
        log.info('au job server stopped');
      })();
      return closing;
    },
  };
}
