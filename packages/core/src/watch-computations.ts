import { type Clock, sleep, systemClock } from './clock';
import type { ComputationStore, WatchFilter } from './contracts/store';
import { ClosedError } from './errors/closed-error';
import { checkOptions, optionNames } from './internal/check-options';
import type { ComputationRecord } from './record';
import { checkWatchFilter } from './watch-filter';

export interface WatchComputationsOptions {
  /** Ends the iteration. */
  signal?: AbortSignal;
  /** Ms between two polls, for a store without `watchAll`. @default 1000 */
  interval?: number;
  /** How many of the newest matching records a poll reads. @default 500 */
  pollLimit?: number;
  /** @default systemClock */
  clock?: Clock;
}

const WATCH_COMPUTATIONS_OPTIONS = optionNames<WatchComputationsOptions>({
  signal: true,
  interval: true,
  pollLimit: true,
  clock: true,
});

/**
 * Follows every computation of `store` that matches `filter` (all of them with `{}`):
 * yields each new record and each new version of a record, from the moment of the call,
 * until `signal` aborts. With a store that pushes (`capabilities.watchAll`) each change
 * comes as it is written; otherwise `list` is polled every `interval` ms over the
 * `pollLimit` newest matching records (by creation), and a record is yielded when it is
 * new or differs from the previous poll (status, attempt, progress, error, logs, times):
 * intermediate versions between two polls are not seen, and neither are changes to older
 * records. A poll that fails is tried again at the next interval (five in a row end the
 * iteration with the error; a closed store ends it at once). An unknown filter field or
 * status is a `TypeError`.
 */
export function watchComputations(
  store: ComputationStore,
  filter: WatchFilter = {},
  options: WatchComputationsOptions = {},
): AsyncIterable<ComputationRecord> {
  checkOptions('watchComputations', options, WATCH_COMPUTATIONS_OPTIONS);
  checkWatchFilter(filter, 'watchComputations filter');
  if (store.capabilities.watchAll === true && store.watchAll !== undefined) {
    return store.watchAll(filter, options.signal);
  }
  return pollComputations(store, filter, options);
}

/** Polls in a row that may fail before the iteration fails with the last error. */
const MAX_POLL_FAILURES = 5;

async function* pollComputations(
  store: ComputationStore,
  filter: WatchFilter,
  options: WatchComputationsOptions,
): AsyncGenerator<ComputationRecord> {
  const { signal } = options;
  const clock = options.clock ?? systemClock;
  const interval = options.interval ?? 1000;
  const limit = Math.max(1, Math.min(options.pollLimit ?? 500, 100_000));
  let seen: Map<string, string> | undefined;
  let failures = 0;
  while (signal?.aborted !== true) {
    let records: ComputationRecord[];
    try {
      records = await newest(store, filter, limit);
      failures = 0;
    } catch (error) {
      // A passing failure (a busy file, a dropped connection) is tried again next time.
      if (ClosedError.isInstance(error) || ++failures >= MAX_POLL_FAILURES) throw error;
      records = [];
    }
    if (failures > 0) {
      if (!(await pause(interval, clock, signal))) return;
      continue;
    }
    const next = new Map<string, string>();
    // Oldest first, so that the order of the yields follows creation.
    for (let index = records.length - 1; index >= 0; index--) {
      const record = records[index]!;
      const print = fingerprint(record);
      next.set(record.key, print);
      if (seen !== undefined && seen.get(record.key) !== print) yield record;
    }
    seen = next;
    if (!(await pause(interval, clock, signal))) return;
  }
}

/** Waits `ms`; false when the signal aborted meanwhile. */
async function pause(ms: number, clock: Clock, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    await sleep(ms, { clock, ...(signal === undefined ? {} : { signal }) });
    return true;
  } catch {
    return false;
  }
}

async function newest(
  store: ComputationStore,
  filter: WatchFilter,
  limit: number,
): Promise<ComputationRecord[]> {
  const records: ComputationRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({
      ...filter,
      limit: Math.min(1000, limit - records.length),
      ...(cursor === undefined ? {} : { cursor }),
    });
    records.push(...page.records);
    cursor = page.cursor;
  } while (cursor !== undefined && records.length < limit);
  return records;
}

/** What a poll compares: the fields a change writes. */
function fingerprint(record: ComputationRecord): string {
  return JSON.stringify([
    record.status,
    record.attempt,
    record.progress,
    record.error?.message,
    record.logs?.lines.length,
    record.logs?.dropped,
    record.startedAt,
    record.finishedAt,
    record.expiresAt,
    record.runAt,
  ]);
}
