import type { Middleware } from '../contracts/middleware';
import type { ComputationRecord } from '../record';
import type { TaskLogger } from '../task';

/**
 * Tells every middleware with a `deadLetter` hook that `record` is a dead letter, in
 * order. A hook that throws is logged and the others still run: the record is already
 * written and no hook can change it.
 */
export async function notifyDeadLetter(
  middleware: readonly Middleware[],
  record: ComputationRecord,
  logger?: TaskLogger,
): Promise<void> {
  for (const item of middleware) {
    if (item.deadLetter === undefined) continue;
    try {
      await item.deadLetter(record);
    } catch (error) {
      logger?.warn(
        { err: error, key: record.key, task: record.task },
        `[au] middleware "${item.name}" failed in its dead-letter hook`,
      );
    }
  }
}
