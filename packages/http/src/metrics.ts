import {
  COMPUTATION_STATUSES,
  type ComputationStore,
  countComputations,
  MetricsMiddleware,
  type PrometheusOptions,
} from '@au/core';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import * as promClient from 'prom-client';

/** Store counts are made at most this often, however many scrapers ask. */
const COUNT_INTERVAL = 1000;

/**
 * A prom-client registry of this plugin instance: default process metrics, HTTP
 * request counts and durations by route, core's computation metrics (counted where the
 * work runs: in this process for a local backend or an embedded worker), and the
 * computations of the store by status and task, counted at scrape time.
 */
export function createMetrics(): { registry: promClient.Registry; middleware: MetricsMiddleware } {
  const registry = new promClient.Registry();
  promClient.collectDefaultMetrics({ register: registry });
  const middleware = MetricsMiddleware({
    prometheus: { client: promClient as unknown as PrometheusOptions['client'], registry },
  });
  return { registry, middleware };
}

/**
 * `au_store_computations{status,task}`: the live records of `store`, counted when Prometheus
 * scrapes (the `pending` ones are the queue depth). One count per status and task,
 * through the store's `count` where it has one; at most one round of counts a second.
 * A store that fails to answer leaves the series out of that scrape (and logs a warning).
 */
export function registerStoreGauge(
  registry: promClient.Registry,
  store: ComputationStore,
  tasks: () => readonly string[],
  logger: FastifyBaseLogger,
): void {
  let last: { at: number; counts: Promise<[string, string, number][]> } | undefined;
  const countAll = async (): Promise<[string, string, number][]> => {
    const pairs = tasks().flatMap((task) => COMPUTATION_STATUSES.map((status) => [task, status] as const));
    return Promise.all(
      pairs.map(
        async ([task, status]) =>
          [task, status, await countComputations(store, { task, status })] as [string, string, number],
      ),
    );
  };
  new promClient.Gauge({
    name: 'au_store_computations',
    help: 'Live computations in the store by status and task, counted at scrape time (pending = queue depth)',
    labelNames: ['status', 'task'],
    registers: [registry],
    async collect() {
      const now = Date.now();
      if (last === undefined || now - last.at >= COUNT_INTERVAL) last = { at: now, counts: countAll() };
      this.reset();
      try {
        for (const [task, status, count] of await last.counts) this.set({ status, task }, count);
      } catch (error) {
        logger.warn({ err: error }, '[au] [http] /metrics: the store did not answer the counts');
        last = undefined;
      }
    },
  });
}

/** Counts requests and measures their durations, labelled by route pattern (never by raw URL). */
export function instrumentRequests(app: FastifyInstance, registry: promClient.Registry): void {
  const requests = new promClient.Counter({
    name: 'au_http_requests_total',
    help: 'HTTP requests answered, by method, route and status code',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const durations = new promClient.Histogram({
    name: 'au_http_request_duration_seconds',
    help: 'Time to answer HTTP requests, by method and route',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    durations.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
}
