import type { WatchFilter } from './contracts/store';
import { checkOptions, optionNames } from './internal/check-options';
import type { ComputationRecord } from './record';
import { isComputationStatus } from './status';

const WATCH_FILTER_FIELDS = optionNames<WatchFilter>({ task: true, tag: true, status: true });

/** Checks a `WatchFilter`: unknown fields are a `TypeError`, and so is an unknown status. */
export function checkWatchFilter(filter: WatchFilter, what = 'watch filter'): void {
  checkOptions(what, filter, WATCH_FILTER_FIELDS);
  const statuses = filter.status === undefined ? [] : [filter.status].flat();
  for (const status of statuses) {
    if (!isComputationStatus(status)) throw new TypeError(`[au] ${what}: unknown status "${String(status)}"`);
  }
}

/** Whether `record` is one `filter` follows. */
export function matchesWatchFilter(record: ComputationRecord, filter: WatchFilter): boolean {
  if (filter.task !== undefined && record.task !== filter.task) return false;
  if (filter.tag !== undefined && !(record.tags ?? []).includes(filter.tag)) return false;
  if (filter.status !== undefined) {
    const statuses: readonly string[] = typeof filter.status === 'string' ? [filter.status] : filter.status;
    if (!statuses.includes(record.status)) return false;
  }
  return true;
}
