import {
  type ComputationBackend,
  type ComputationScheduler,
  type ComputationStatsReport,
  type ComputationStore,
  computationStats,
  InProcessBackend,
  jsonCodec,
  MemoryStore,
  type Middleware,
  NO_RETRY,
  openScheduler,
  TaskRegistry,
} from '@au/core';
import { checkOptions, type LaunchSettings, optionNames, resumeHeldLaunch } from '@au/core/kit';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { AuHttpOptions } from './au-http-options';
import { bearerAuth } from './auth';
import { errorHandler } from './error-handler';
import { HttpError } from './errors/http-error';
import { EventHub } from './event-hub';
import { createMetrics, instrumentRequests, registerStoreGauge } from './metrics';
import { registerOpenApi } from './openapi';
import { componentSchemas } from './openapi-components';
import type { PluginState } from './plugin-state';
import { registerComputationRoutes } from './routes/computation-routes';
import { registerEventRoutes } from './routes/event-routes';
import { registerHealthRoutes } from './routes/health-routes';
import { registerLogRoutes } from './routes/log-routes';
import { registerPauseRoutes } from './routes/pause-routes';
import { registerRetryRoutes } from './routes/retry-routes';
import { registerScheduleRoutes } from './routes/schedule-routes';
import { registerStatsRoutes } from './routes/stats-routes';
import { registerStreamRoutes } from './routes/stream-routes';
import { registerTaskRoutes } from './routes/task-routes';
import { refuseUnknownQuery } from './unknown-query';

const NAME = '@au/http';

/** Ours, plus what Fastify's `register` passes every plugin. */
const AU_HTTP_OPTIONS = new Set([
  ...optionNames<AuHttpOptions>({
    tasks: true,
    store: true,
    backend: true,
    scheduler: true,
    prefix: true,
    defaultWait: true,
    maxWait: true,
    apiKeys: true,
    bodyLimit: true,
    ttl: true,
    codec: true,
    middleware: true,
    exposeStacks: true,
    exposeInputs: true,
    resumeDependents: true,
    openapi: true,
    metrics: true,
    heartbeatInterval: true,
  }),
  'logLevel',
  'logSerializers',
]);

/** What the plugin adds to the Fastify instance as `app.au`. */
export interface AuHttpDecorator {
  store: ComputationStore;
  backend: ComputationBackend;
  tasks: TaskRegistry;
  /**
   * Live computations of the store by status and by served task, and (with metrics on)
   * throughput, success rate, duration and queue-wait percentiles and running counts
   * that this process saw over the last `window` ms (default 5 min). Also `GET /stats`.
   */
  stats(options?: { window?: number }): Promise<ComputationStatsReport>;
}

declare module 'fastify' {
  interface FastifyInstance {
    au: AuHttpDecorator;
  }
  interface FastifyContextConfig {
    /** Reachable without an API key. */
    auPublic?: boolean;
  }
}

const plugin: FastifyPluginAsync<AuHttpOptions> = async (app, options) => {
  checkOptions('[http] auHttp', options, AU_HTTP_OPTIONS);
  const tasks =
    options.tasks instanceof TaskRegistry
      ? options.tasks
      : new TaskRegistry(options.tasks ?? [], 'this server');
  const ownsStore = options.store === undefined;
  const ownsBackend = options.backend === undefined;
  const store: ComputationStore = options.store ?? new MemoryStore();
  const backend: ComputationBackend = options.backend ?? new InProcessBackend();
  const prefix = normalizePrefix(options.prefix);
  const metrics = options.metrics === false ? undefined : createMetrics();
  if (metrics !== undefined) registerStoreGauge(metrics.registry, store, () => tasks.names(), app.log);
  const middleware: Middleware[] = [...(options.middleware ?? [])];
  if (metrics !== undefined) middleware.push(metrics.middleware);
  const defaultCodec = options.codec ?? jsonCodec;

  const settings = new Map<string, LaunchSettings>();
  for (const task of tasks) {
    const resolved: LaunchSettings = {
      store,
      backend,
      codec: task.codec ?? defaultCodec,
      retry: task.retry ?? NO_RETRY,
      middleware,
      logger: app.log,
    };
    if (task.timeout !== undefined) resolved.timeout = task.timeout;
    const ttl = options.ttl ?? task.ttl;
    if (ttl !== undefined) resolved.ttl = ttl;
    settings.set(task.name, resolved);
  }

  if (tasks.has('schedules')) {
    throw new TypeError('[au] [http] a task named "schedules" would hide POST /schedules: rename the task');
  }
  const ownsScheduler = options.scheduler === undefined;
  const scheduler: ComputationScheduler | undefined =
    options.scheduler === false
      ? undefined
      : (options.scheduler ??
        (backend.scheduler !== undefined || store.schedules !== undefined
          ? openScheduler({
              store,
              backend,
              findTask: (name) => tasks.find(name),
              // Scheduled runs launch like POST /{task}: same codec, middleware and ttl.
              launchSettings: (task) => settings.get(task.name),
              logger: app.log,
            })
          : undefined));

  const state: PluginState = {
    store,
    backend,
    tasks,
    scheduler,
    settings,
    defaultCodec,
    defaultWait: positive(options.defaultWait, 10, 'defaultWait'),
    maxWait: positive(options.maxWait, 60, 'maxWait'),
    exposeStacks: options.exposeStacks ?? false,
    exposeInputs: options.exposeInputs ?? true,
    heartbeatInterval: options.heartbeatInterval ?? 15_000,
    bodyLimit: options.bodyLimit ?? 1_048_576,
    metricsRegistry: metrics?.registry,
    stats: (query = {}) =>
      computationStats(store, {
        tasks: tasks.names(),
        ...(metrics === undefined ? {} : { metrics: metrics.middleware }),
        ...(query.window === undefined ? {} : { window: query.window }),
      }),
    events: new EventHub(store, {
      onError: (error) =>
        app.log.warn({ err: error }, '[au] [http] following every task failed; trying again'),
    }),
    shutdown: new AbortController(),
  };

  app.decorate('au', { store, backend, tasks, stats: state.stats });
  // End event streams and waits first, so closing the server does not wait on them.
  app.addHook('preClose', async () => {
    state.shutdown.abort();
    state.events.close();
  });
  if (options.resumeDependents !== false) {
    app.addHook('onReady', async () => {
      // In the background: a long list of pending records must not delay readiness.
      void resumeDependents(state).catch((error: unknown) =>
        app.log.warn({ err: error }, '[au] [http] could not take up the pending dependents'),
      );
    });
  }
  app.addHook('onClose', async () => {
    if (ownsScheduler) await scheduler?.close();
    if (ownsBackend) await backend.close();
    if (ownsStore) await store.close();
  });

  await app.register(
    async (scope: FastifyInstance) => {
      // Bodies are validated by each task's schema at launch, and answers are plain
      // JSON: the route schemas only describe the API for OpenAPI.
      scope.setValidatorCompiler(() => () => true);
      scope.setSerializerCompiler(() => (data) => JSON.stringify(data));
      scope.setErrorHandler(errorHandler);
      scope.setNotFoundHandler((request, reply) => {
        const known = tasks.names();
        const isTaskCall = request.method === 'POST';
        errorHandler(
          new HttpError(
            404,
            isTaskCall ? 'TASK_NOT_FOUND' : 'NOT_FOUND',
            isTaskCall
              ? `no task at ${request.method} ${request.url.split('?')[0]}: this server runs ${known.length > 0 ? known.join(', ') : 'no tasks'}`
              : `no route ${request.method} ${request.url.split('?')[0]}`,
          ),
          request,
          reply,
        );
      });
      if (options.apiKeys !== undefined && options.apiKeys.length > 0) {
        const docsPrefix = `${prefix}/docs`;
        const isPublic = (request: FastifyRequest) =>
          request.routeOptions.config?.auPublic === true ||
          request.routeOptions.url === `${prefix}/openapi.json` ||
          (request.routeOptions.url?.startsWith(docsPrefix) ?? false);
        scope.addHook('onRequest', bearerAuth(options.apiKeys, isPublic));
      }
      if (metrics !== undefined) instrumentRequests(scope, metrics.registry);
      refuseUnknownQuery(scope);
      for (const schema of componentSchemas) scope.addSchema(schema);
      if (options.openapi !== false) {
        await registerOpenApi(scope, options.openapi === true ? {} : (options.openapi ?? {}), {
          secured: (options.apiKeys?.length ?? 0) > 0,
        });
      }
      registerTaskRoutes(scope, state, prefix);
      registerComputationRoutes(scope, state);
      registerRetryRoutes(scope, state);
      registerScheduleRoutes(scope, state, prefix);
      registerPauseRoutes(scope, state);
      registerEventRoutes(scope, state);
      registerStreamRoutes(scope, state);
      registerLogRoutes(scope, state);
      registerHealthRoutes(scope, state);
      registerStatsRoutes(scope, state);
    },
    { prefix },
  );
};

/** The au HTTP API as a Fastify plugin: `app.register(auHttp, { tasks, store, backend })`. */
export const auHttp = fp(plugin, { name: NAME, fastify: '5.x' });

function normalizePrefix(prefix: string | undefined): string {
  if (prefix === undefined || prefix === '' || prefix === '/') return '';
  const withSlash = prefix.startsWith('/') ? prefix : `/${prefix}`;
  return withSlash.endsWith('/') ? withSlash.slice(0, -1) : withSlash;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!(value >= 0) || !Number.isFinite(value)) {
    throw new TypeError(`[au] [http] ${name} must be a number of seconds ≥ 0, got ${value}`);
  }
  return value;
}

/** Takes up the pending dependents of the served tasks (`resumeHeldLaunch`), page by page. */
async function resumeDependents(state: PluginState): Promise<void> {
  let cursor: string | undefined;
  do {
    const page = await state.store.list({ status: 'pending', limit: 1000, ...(cursor ? { cursor } : {}) });
    for (const record of page.records) {
      const settings = state.settings.get(record.task);
      const task = state.tasks.find(record.task);
      if (settings !== undefined && task !== undefined) await resumeHeldLaunch(task, record, settings);
    }
    cursor = page.cursor;
  } while (cursor !== undefined);
}
