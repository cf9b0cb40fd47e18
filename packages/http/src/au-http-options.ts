import type {
  Codec,
  ComputationBackend,
  ComputationScheduler,
  ComputationStore,
  Middleware,
  TaskDefinition,
  TaskRegistry,
} from '@au/core';

/** Options of the `@au/http` Fastify plugin. */
export interface AuHttpOptions {
  /**
   * The tasks to serve: one `POST /{task}` endpoint each. Nothing else can be launched
   * over HTTP.
   */
  tasks: readonly TaskDefinition[] | TaskRegistry;
  /** Where records live. Closed with the server only when the plugin made it. @default a new MemoryStore */
  store?: ComputationStore;
  /** Where work runs. Closed with the server only when the plugin made it. @default a new InProcessBackend */
  backend?: ComputationBackend;
  /**
   * Keeps and fires the schedules of `/schedules`. `false`: no schedule routes work
   * (501). Closed with the server only when the plugin opened it.
   * @default openScheduler over the store and backend (the backend's own scheduler, else
   * core's StoreScheduler when the store keeps schedules; none otherwise)
   */
  scheduler?: ComputationScheduler | false;
  /** Route prefix, e.g. `/api`. @default '' */
  prefix?: string;
  /** Seconds `POST /{task}` waits for the result when the request names no `?wait=`. @default 10 */
  defaultWait?: number;
  /** Upper bound in seconds of any `?wait=`. @default 60 */
  maxWait?: number;
  /**
   * Accepted bearer tokens. When set (non-empty), every route except `/healthz`,
   * `/readyz`, `/docs` and `/openapi.json` answers 401 without one of them.
   * @default no authentication
   */
  apiKeys?: readonly string[];
  /** Largest request body in bytes; larger ones get 413. @default 1048576 (1 MiB) */
  bodyLimit?: number;
  /** Seconds a finished record is kept. @default the task's ttl, else kept */
  ttl?: number;
  /** Codec of tasks that name none. @default jsonCodec */
  codec?: Codec;
  /** Launch- and run-side middleware for every launch, outermost first. @default [] */
  middleware?: readonly Middleware[];
  /** Include the remote stack of a failed computation in error bodies. @default false */
  /**
   * When the server is ready, take up the dependents (`?dependsOn=`) of its tasks that a
   * previous process held and left `pending`: each starts once its parents completed, or
   * ends as it would have. See docs/flow-control.md. @default true
   */
  resumeDependents?: boolean;
  exposeStacks?: boolean;
  /**
   * Serve `/openapi.json` and the Swagger UI at `/docs` (assets served locally). Turn it
   * off when the application registers `@fastify/swagger` itself.
   * @default true
   */
  openapi?: boolean | OpenApiInfo;
  /** Serve Prometheus metrics at `/metrics` and count computations. @default true */
  metrics?: boolean;
  /** Milliseconds between keep-alive comments on event streams. @default 15000 */
  heartbeatInterval?: number;
}

/** The `info` block of the generated OpenAPI document. */
export interface OpenApiInfo {
  /** @default 'au job server' */
  title?: string;
  /** @default '1.0.0' */
  version?: string;
  description?: string;
}
