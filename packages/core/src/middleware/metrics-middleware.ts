import type { Middleware } from '../contracts/middleware';
import { CancelledError } from '../errors/cancelled-error';

/** Counts and mean duration since the middleware was made. */
export interface ComputationStats {
  /** Attempts that ended, in all. */
  total: number;
  completed: number;
  failed: number;
  cancelled: number;
  /** Mean run time of the attempts that ended, in ms. */
  avgDuration: number;
}

/**
 * The parts of prom-client this middleware uses, so core does not depend on it:
 * pass `{ client: await import('prom-client'), registry }`.
 */
export interface PrometheusOptions {
  client: {
    Counter: new (config: {
      name: string;
      help: string;
      labelNames: string[];
      registers: unknown[];
    }) => { inc(labels: Record<string, string>): void };
    Histogram: new (config: {
      name: string;
      help: string;
      labelNames: string[];
      buckets: number[];
      registers: unknown[];
    }) => { observe(labels: Record<string, string>, value: number): void };
  };
  registry: unknown;
  /** Metric name prefix. @default 'au_' */
  prefix?: string;
}

export interface MetricsMiddleware extends Middleware {
  getStats(): ComputationStats;
  reset(): void;
}

const SECONDS_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300];

/**
 * Counts attempts by outcome and measures durations (run side). With `prometheus`, also
 * feeds `au_computations_total{task,status}`, `au_computation_duration_seconds{task}`
 * and `au_queue_wait_seconds{task}` in the given registry.
 */
export function MetricsMiddleware(options: { prometheus?: PrometheusOptions } = {}): MetricsMiddleware {
  const stats = { total: 0, completed: 0, failed: 0, cancelled: 0, durationSum: 0 };
  const prometheus = options.prometheus;
  const prefix = prometheus?.prefix ?? 'au_';
  const registers = prometheus === undefined ? [] : [prometheus.registry];
  const counter = prometheus
    ? new prometheus.client.Counter({
        name: `${prefix}computations_total`,
        help: 'Computation attempts that ended, by task and outcome',
        labelNames: ['task', 'status'],
        registers,
      })
    : undefined;
  const duration = prometheus
    ? new prometheus.client.Histogram({
        name: `${prefix}computation_duration_seconds`,
        help: 'Run time of computation attempts',
        labelNames: ['task'],
        buckets: SECONDS_BUCKETS,
        registers,
      })
    : undefined;
  const queueWait = prometheus
    ? new prometheus.client.Histogram({
        name: `${prefix}queue_wait_seconds`,
        help: 'Time from launch to the first attempt start',
        labelNames: ['task'],
        buckets: SECONDS_BUCKETS,
        registers,
      })
    : undefined;

  const record = (task: string, status: 'completed' | 'failed' | 'cancelled', ms: number) => {
    stats.total += 1;
    stats[status] += 1;
    stats.durationSum += ms;
    counter?.inc({ task, status });
    duration?.observe({ task }, ms / 1000);
  };

  return {
    name: 'metrics',
    async run(context, next) {
      if (context.attempt === 1)
        queueWait?.observe({ task: context.task }, (context.startedAt - context.createdAt) / 1000);
      const started = performance.now();
      try {
        const result = await next();
        record(context.task, 'completed', performance.now() - started);
        return result;
      } catch (error) {
        record(
          context.task,
          CancelledError.isInstance(error) ? 'cancelled' : 'failed',
          performance.now() - started,
        );
        throw error;
      }
    },
    getStats: () => ({
      total: stats.total,
      completed: stats.completed,
      failed: stats.failed,
      cancelled: stats.cancelled,
      avgDuration: stats.total === 0 ? 0 : stats.durationSum / stats.total,
    }),
    reset() {
      Object.assign(stats, { total: 0, completed: 0, failed: 0, cancelled: 0, durationSum: 0 });
    },
  };
}
