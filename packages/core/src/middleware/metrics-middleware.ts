import { hostname } from 'node:os';
import type { Middleware } from '../contracts/middleware';
import { CancelledError } from '../errors/cancelled-error';
import { checkOptions, optionNames } from '../internal/check-options';
import { type Percentiles, percentiles } from './percentiles';

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
    /** For `au_computations_running{task,worker}`; left out when the client has none. */
    Gauge?: new (config: {
      name: string;
      help: string;
      labelNames: string[];
      registers: unknown[];
    }) => { inc(labels: Record<string, string>): void; dec(labels: Record<string, string>): void };
  };
  registry: unknown;
  /** Metric name prefix. @default 'au_' */
  prefix?: string;
}

/** Options of `MetricsMiddleware`. */
export interface MetricsMiddlewareOptions {
  /** Also feed a prom-client registry. @default none */
  prometheus?: PrometheusOptions;
  /** This process's name in `running` and the `worker` label. @default `${hostname()}:${process.pid}` */
  worker?: string;
  /** Milliseconds of endings kept for `stats()`: its longest window. @default 900000 (15 min) */
  window?: number;
  /** Endings kept at most for `stats()` (their durations give the percentiles). @default 10000 */
  samples?: number;
}

/** What this process saw over the last `window` ms: `MetricsMiddleware.stats()`. */
export interface WindowStats {
  /** The window in ms (shorter than asked when the middleware keeps less). */
  window: number;
  completed: number;
  failed: number;
  cancelled: number;
  /** Attempts that ended, per second, over the window. */
  throughput: number;
  /** completed / (completed + failed) over the window; `null` when nothing ended. */
  successRate: number | null;
  /** Run time of the attempts that ended in the window, in ms; `null` when none did. */
  duration: Percentiles | null;
  /** Launch to first start of the computations that started in the window, in ms. */
  queueWait: Percentiles | null;
  /** Attempts running now in this process: by worker (this one), and by task. */
  running: { byWorker: Record<string, number>; byTask: Record<string, number> };
}

export interface MetricsMiddleware extends Middleware {
  /** Counts since the middleware was made (or `reset`). */
  getStats(): ComputationStats;
  /** Throughput, success rate, percentiles and running counts over the last `window` ms. @default window 300000 */
  stats(options?: { window?: number }): WindowStats;
  /** This process's name, as in `running.byWorker` and the `worker` label. */
  readonly worker: string;
  reset(): void;
}

const METRICS_OPTIONS = optionNames<MetricsMiddlewareOptions>({
  prometheus: true,
  worker: true,
  window: true,
  samples: true,
});

interface Ending {
  at: number;
  status: 'completed' | 'failed' | 'cancelled';
  ms: number;
}

const SECONDS_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300];

/**
 * Counts attempts by outcome and measures durations (run side, so in the process that
 * runs the work). `stats()` gives throughput, success rate, duration and queue-wait
 * percentiles over a recent window, and what runs now. With `prometheus`, also feeds
 * `au_computations_total{task,status}`, `au_computation_duration_seconds{task}`,
 * `au_queue_wait_seconds{task}` and `au_computations_running{task,worker}`.
 */
export function MetricsMiddleware(options: MetricsMiddlewareOptions = {}): MetricsMiddleware {
  checkOptions('MetricsMiddleware', options, METRICS_OPTIONS);
  const stats = { total: 0, completed: 0, failed: 0, cancelled: 0, durationSum: 0 };
  const worker = options.worker ?? `${hostname()}:${process.pid}`;
  const keep = options.window ?? 15 * 60_000;
  const samples = options.samples ?? 10_000;
  const endings: Ending[] = [];
  const waits: { at: number; ms: number }[] = [];
  const running = new Map<string, number>();
  const trim = <T extends { at: number }>(list: T[], now: number) => {
    // Oldest first: drop past the sample cap, then what is older than the window.
    let drop = Math.max(0, list.length - samples);
    while (drop < list.length && list[drop]!.at < now - keep) drop += 1;
    if (drop > 0) list.splice(0, drop);
  };
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

  const runningGauge =
    prometheus?.client.Gauge === undefined
      ? undefined
      : new prometheus.client.Gauge({
          name: `${prefix}computations_running`,
          help: 'Computation attempts running now, by task and worker process',
          labelNames: ['task', 'worker'],
          registers,
        });

  const record = (task: string, status: 'completed' | 'failed' | 'cancelled', ms: number) => {
    stats.total += 1;
    stats[status] += 1;
    stats.durationSum += ms;
    counter?.inc({ task, status });
    duration?.observe({ task }, ms / 1000);
    const now = Date.now();
    endings.push({ at: now, status, ms });
    trim(endings, now);
  };

  return {
    name: 'metrics',
    worker,
    async run(context, next) {
      const task = context.task;
      if (context.attempt === 1) {
        const wait = Math.max(0, context.startedAt - context.createdAt);
        queueWait?.observe({ task }, wait / 1000);
        const now = Date.now();
        waits.push({ at: now, ms: wait });
        trim(waits, now);
      }
      running.set(task, (running.get(task) ?? 0) + 1);
      runningGauge?.inc({ task, worker });
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
      } finally {
        const left = (running.get(task) ?? 1) - 1;
        if (left === 0) running.delete(task);
        else running.set(task, left);
        runningGauge?.dec({ task, worker });
      }
    },
    stats(query = {}) {
      const window = Math.min(query.window ?? 5 * 60_000, keep);
      const since = Date.now() - window;
      const ended = endings.filter((ending) => ending.at >= since);
      const count = (status: Ending['status']) => ended.filter((ending) => ending.status === status).length;
      const completed = count('completed');
      const failed = count('failed');
      const byTask = Object.fromEntries(running);
      let total = 0;
      for (const value of running.values()) total += value;
      return {
        window,
        completed,
        failed,
        cancelled: count('cancelled'),
        throughput: ended.length / (window / 1000),
        successRate: completed + failed === 0 ? null : completed / (completed + failed),
        duration: percentiles(ended.map((ending) => ending.ms)),
        queueWait: percentiles(waits.filter((wait) => wait.at >= since).map((wait) => wait.ms)),
        running: { byWorker: { [worker]: total }, byTask },
      };
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
      endings.length = 0;
      waits.length = 0;
    },
  };
}
