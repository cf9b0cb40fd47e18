import type { ComputationStore } from './contracts/store';
import { countComputations } from './count-computations';
import type { MetricsMiddleware, WindowStats } from './middleware/metrics-middleware';
import { COMPUTATION_STATUSES, type ComputationStatus } from './status';

/** Options of `computationStats`. */
export interface ComputationStatsOptions {
  /** Tasks to count one by one (`counts.byTask`). @default none: counts by status only */
  tasks?: readonly string[];
  /** Where throughput, success rate, percentiles and running counts come from. @default none */
  metrics?: MetricsMiddleware;
  /** Milliseconds of the window of `recent`. @default 300000 (5 min) */
  window?: number;
}

/** Live computations of a store by status, and what a `MetricsMiddleware` saw recently. */
export interface ComputationStatsReport {
  /** When the counts were made (ms since the epoch). */
  at: number;
  counts: {
    /** Every live record, by status (`pending` is the queue depth). */
    byStatus: Record<ComputationStatus, number>;
    /** The same for each task of `options.tasks`. */
    byTask: Record<string, Record<ComputationStatus, number>>;
  };
  /** From `options.metrics`: what ran in this process over the window; `null` without it. */
  recent: WindowStats | null;
}

/**
 * Counts the live computations of `store` by status (and by task for `tasks`), through
 * the store's `count` where it has one (else by paging `list`), and adds the recent
 * throughput, success rate, percentiles and running counts of `metrics`.
 */
export async function computationStats(
  store: ComputationStore,
  options: ComputationStatsOptions = {},
): Promise<ComputationStatsReport> {
  const at = Date.now();
  const tasks = options.tasks ?? [];
  const byStatus = statusCounts(
    await Promise.all(COMPUTATION_STATUSES.map((status) => countComputations(store, { status }))),
  );
  const perTask = await Promise.all(
    tasks.map(async (task) =>
      statusCounts(
        await Promise.all(COMPUTATION_STATUSES.map((status) => countComputations(store, { status, task }))),
      ),
    ),
  );
  return {
    at,
    counts: {
      byStatus,
      byTask: Object.fromEntries(tasks.map((task, index) => [task, perTask[index]!])),
    },
    recent:
      options.metrics === undefined
        ? null
        : options.metrics.stats(options.window === undefined ? {} : { window: options.window }),
  };
}

// ---- private helpers --------------------------------------------------------------

function statusCounts(counts: readonly number[]): Record<ComputationStatus, number> {
  return Object.fromEntries(COMPUTATION_STATUSES.map((status, index) => [status, counts[index]!])) as Record<
    ComputationStatus,
    number
  >;
}
