import type { ComputationBackend, ComputationStore, Middleware, TaskRegistry } from '@au/core';
import { auDashboard } from '@au/dashboard';
import { auHttp } from '@au/http';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ServerSettings } from './server-settings';

export interface BuildServerOptions {
  store: ComputationStore;
  backend: ComputationBackend;
  tasks: TaskRegistry;
  /** Seconds finished records are kept (`AU_TTL_SECONDS`). */
  ttl?: number | undefined;
  settings: ServerSettings;
  logger: FastifyBaseLogger;
  /** Launch- and run-side middleware of every launch (e.g. tracing). @default [] */
  middleware?: readonly Middleware[];
}

/**
 * The job server's Fastify app: the `@au/http` plugin over the given store, backend
 * and tasks, and the dashboard. The caller owns the store and backend (and closes them).
 */
export async function buildServer(options: BuildServerOptions): Promise<FastifyInstance> {
  const { settings } = options;
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: settings.bodyLimit,
    // Task ids may be up to 200 characters.
    routerOptions: { maxParamLength: 200 },
  });
  await app.register(auHttp, {
    tasks: options.tasks,
    store: options.store,
    backend: options.backend,
    ...(options.ttl === undefined ? {} : { ttl: options.ttl }),
    apiKeys: settings.apiKeys,
    defaultWait: settings.defaultWait,
    maxWait: settings.maxWait,
    bodyLimit: settings.bodyLimit,
    exposeStacks: settings.exposeStacks,
    ...(options.middleware === undefined ? {} : { middleware: options.middleware }),
    openapi: {
      title: 'au job server',
      description: `Tasks: ${options.tasks.names().join(', ') || 'none'}. Store: ${options.store.name}, backend: ${options.backend.name}.`,
    },
  });
  // The web dashboard at /ui (and / redirects there); it talks to the API above.
  await app.register(auDashboard);
  return app;
}
