import { MetricsMiddleware, type PrometheusOptions } from '@au/core';
import type { FastifyInstance } from 'fastify';
import * as promClient from 'prom-client';

/**
 * A prom-client registry of this plugin instance: default process metrics, HTTP
 * request counts and durations by route, and core's computation metrics (counted
 * where the work runs: in this process for the in-process backend).
 */
export function createMetrics(): { registry: promClient.Registry; middleware: MetricsMiddleware } {
  const registry = new promClient.Registry();
  promClient.collectDefaultMetrics({ register: registry });
  const middleware = MetricsMiddleware({
    prometheus: { client: promClient as unknown as PrometheusOptions['client'], registry },
  });
  return { registry, middleware };
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
