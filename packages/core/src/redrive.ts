import type { ComputationStore } from './contracts/store';
import { NothingToRedriveError } from './errors/nothing-to-redrive-error';
import { parentsOf } from './flow/dependencies';
import { checkOptions, optionNames } from './internal/check-options';
import { MAX_LIST_LIMIT } from './list-query';
import type { ComputationRecord } from './record';

/** Which ended computations a redrive retries. */
export interface RedriveFilter {
  /** Only this task's computations. */
  task?: string;
  /** `failed` (the dead letters), `cancelled`, or both. @default 'failed' */
  status?: RetryableStatus | readonly RetryableStatus[];
  /** Only computations that ended at or after this time (ms since the epoch, or a Date). */
  since?: number | Date;
  /** Only computations carrying this tag. */
  tag?: string;
  /** At most this many (the newest first). @default no limit */
  limit?: number;
}

/** The statuses a retry re-opens. */
export type RetryableStatus = 'failed' | 'cancelled';

/** What a redrive did. */
export interface RedriveResult {
  /** How many computations were re-opened and handed to the backend. */
  count: number;
  /** Their keys, newest first. */
  keys: string[];
  /** Those that matched but could not be retried (changed meanwhile, refused by the backend). */
  errors: { key: string; error: unknown }[];
}

const REDRIVE_FILTER = optionNames<RedriveFilter>({
  task: true,
  status: true,
  since: true,
  tag: true,
  limit: true,
});
const RETRYABLE: readonly RetryableStatus[] = ['failed', 'cancelled'];
/** Retries at once: each is a store write and a backend launch. */
const REDRIVE_CONCURRENCY = 8;

/**
 * Retries every ended computation that matches `filter` (see `retryComputation`): the
 * matching keys are collected first, then each is retried with `retry`, the parents of a
 * dependent (`dependsOn`) that match too before it. A computation
 * that changed meanwhile (retried, deleted) is reported in `errors`, not retried twice.
 * Rejects with `NothingToRedriveError` when nothing matches, and a `TypeError` naming a
 * bad filter field; nothing is changed then.
 */
export async function redriveComputations(
  store: ComputationStore,
  filter: RedriveFilter,
  retry: (record: ComputationRecord) => Promise<unknown>,
): Promise<RedriveResult> {
  const statuses = checkRedriveFilter(filter);
  const since = filter.since instanceof Date ? filter.since.getTime() : filter.since;
  const matched: ComputationRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({
      status: statuses,
      ...(filter.task === undefined ? {} : { task: filter.task }),
      ...(filter.tag === undefined ? {} : { tag: filter.tag }),
      limit: MAX_LIST_LIMIT,
      ...(cursor === undefined ? {} : { cursor }),
    });
    for (const record of page.records) {
      if (since !== undefined && (record.finishedAt ?? record.createdAt) < since) continue;
      matched.push(record);
      if (filter.limit !== undefined && matched.length >= filter.limit) break;
    }
    cursor = filter.limit !== undefined && matched.length >= filter.limit ? undefined : page.cursor;
  } while (cursor !== undefined);
  if (matched.length === 0) {
    throw new NothingToRedriveError({ filter: describeFilter(filter), store: store.name });
  }
  const result: RedriveResult = { count: 0, keys: [], errors: [] };
  const retried = new Set<string>();
  const retryRound = async (round: readonly ComputationRecord[]): Promise<void> => {
    let next = 0;
    const work = async (): Promise<void> => {
      while (next < round.length) {
        const record = round[next++]!;
        try {
          await retry(record);
          retried.add(record.key);
        } catch (error) {
          result.errors.push({ key: record.key, error });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(REDRIVE_CONCURRENCY, round.length) }, work));
  };
  // Parents before their dependents (`dependsOn`): a dependent retried while its parent is
  // still failed would end again at once; retried after it, it waits for the parent's new run.
  let remaining = matched;
  while (remaining.length > 0) {
    const waiting = new Set(remaining.map((record) => record.key));
    const ready = remaining.filter(
      (record) => !(parentsOf(record) ?? []).some((parent) => waiting.has(parent)),
    );
    // A cycle cannot be launched; should one be stored, it is retried at once.
    const round = ready.length > 0 ? ready : remaining;
    await retryRound(round);
    const done = new Set(round);
    remaining = remaining.filter((record) => !done.has(record));
  }
  for (const record of matched) if (retried.has(record.key)) result.keys.push(record.key);
  result.count = result.keys.length;
  return result;
}

/** The filter's statuses; a `TypeError` naming the field that is wrong. */
export function checkRedriveFilter(filter: RedriveFilter): readonly RetryableStatus[] {
  checkOptions('redrive', filter, REDRIVE_FILTER);
  const statuses =
    filter.status === undefined
      ? (['failed'] as const)
      : typeof filter.status === 'string'
        ? [filter.status]
        : filter.status;
  if (
    !Array.isArray(statuses) ||
    statuses.length === 0 ||
    !statuses.every((status) => RETRYABLE.includes(status))
  ) {
    throw new TypeError(
      `[au] redrive: \`status\` must be "failed", "cancelled" or both, got ${JSON.stringify(filter.status)}: only ended computations that did not complete are retried`,
    );
  }
  const since = filter.since instanceof Date ? filter.since.getTime() : filter.since;
  if (since !== undefined && !(typeof since === 'number' && Number.isFinite(since))) {
    throw new TypeError(
      `[au] redrive: \`since\` must be a time in ms since the epoch or a valid Date, got ${String(filter.since)}`,
    );
  }
  for (const field of ['task', 'tag'] as const) {
    const value = filter[field];
    if (value !== undefined && (typeof value !== 'string' || value.length === 0)) {
      throw new TypeError(
        `[au] redrive: \`${field}\` must be a non-empty string, got ${JSON.stringify(value)}`,
      );
    }
  }
  if (filter.limit !== undefined && !(Number.isInteger(filter.limit) && filter.limit >= 1)) {
    throw new TypeError(`[au] redrive: \`limit\` must be an integer ≥ 1, got ${String(filter.limit)}`);
  }
  return statuses;
}

function describeFilter(filter: RedriveFilter): Record<string, unknown> {
  const described: Record<string, unknown> = { status: filter.status ?? 'failed' };
  if (filter.task !== undefined) described.task = filter.task;
  if (filter.tag !== undefined) described.tag = filter.tag;
  if (filter.since !== undefined) {
    described.since = filter.since instanceof Date ? filter.since.toISOString() : filter.since;
  }
  return described;
}
