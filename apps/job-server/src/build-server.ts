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
    // Slow clients are cut off: a request (headers and body) must arrive within
    // requestTimeout (else 408), and a socket silent both ways for connectionTimeout is closed.
    requestTimeout: settings.requestTimeout,
    connectionTimeout: settings.connectionTimeout,
    http: {
      headersTimeout: settings.headersTimeout,
      // Node checks those deadlines on this interval (30 s by default: too coarse for short timeouts).
      connectionsCheckingInterval: checkingInterval(settings),
    },
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

/** How often Node looks for requests past their deadline: a quarter of the shortest, 50 ms to 1 s. */
function checkingInterval(settings: ServerSettings): number {
  const shortest = Math.min(
    settings.headersTimeout,
    settings.requestTimeout > 0 ? settings.requestTimeout : Number.POSITIVE_INFINITY,
  );
  return Math.max(50, Math.min(1000, Math.floor(shortest / 4)));
}
