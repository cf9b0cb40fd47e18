import type { ComputationStore, ListPage } from './contracts/store';
import { countComputations } from './count-computations';
import { checkOptions, optionNames } from './internal/check-options';
import { MAX_LIST_LIMIT } from './list-query';

/**
 * Dead letters: computations that ended `failed` — they spent their retries, or could
 * never start (a refused launch, a task the worker does not have). They stay in the store
 * (until their TTL) to be listed, counted, redriven (`redrive`) or purged.
 */
export interface DeadLetterQuery {
  /** Only this task's. */
  task?: string;
  /** Only those carrying this tag. */
  tag?: string;
  /** Page size: 1 to 1000. @default 100 */
  limit?: number;
  /** From a previous page's `cursor`. */
  cursor?: string;
}

/** Which dead letters `purgeDeadLetters` removes. */
export interface PurgeDeadLettersOptions {
  task?: string;
  tag?: string;
  /** Only those that ended before this time (ms since the epoch, or a Date). */
  before?: number | Date;
}

const QUERY = optionNames<DeadLetterQuery>({ task: true, tag: true, limit: true, cursor: true });
const COUNT = optionNames<Pick<DeadLetterQuery, 'task' | 'tag'>>({ task: true, tag: true });
const PURGE = optionNames<PurgeDeadLettersOptions>({ task: true, tag: true, before: true });

/** A page of dead letters, newest first (as `store.list`). */
export function listDeadLetters(store: ComputationStore, query: DeadLetterQuery = {}): Promise<ListPage> {
  checkOptions('listDeadLetters', query, QUERY);
  return store.list({ ...query, status: 'failed' });
}

/** How many dead letters there are (`store.count` where the store has it). */
export function countDeadLetters(
  store: ComputationStore,
  query: Pick<DeadLetterQuery, 'task' | 'tag'> = {},
): Promise<number> {
  checkOptions('countDeadLetters', query, COUNT);
  return countComputations(store, { ...query, status: 'failed' });
}

/**
 * Deletes the dead letters that match; resolves with how many. Each is read again and
 * deleted on its own, so one redriven since the listing is left alone (barring a redrive
 * between that read and the delete).
 */
export async function purgeDeadLetters(
  store: ComputationStore,
  options: PurgeDeadLettersOptions = {},
): Promise<number> {
  checkOptions('purgeDeadLetters', options, PURGE);
  const before = options.before instanceof Date ? options.before.getTime() : options.before;
  if (before !== undefined && !(typeof before === 'number' && Number.isFinite(before))) {
    throw new TypeError(
      `[au] purgeDeadLetters: \`before\` must be a time in ms since the epoch or a valid Date, got ${String(options.before)}`,
    );
  }
  const { task, tag } = options;
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({
      status: 'failed',
      ...(task === undefined ? {} : { task }),
      ...(tag === undefined ? {} : { tag }),
      limit: MAX_LIST_LIMIT,
      ...(cursor === undefined ? {} : { cursor }),
    });
    for (const record of page.records) {
      if (before === undefined || (record.finishedAt ?? record.createdAt) < before) keys.push(record.key);
    }
    cursor = page.cursor;
  } while (cursor !== undefined);
  let removed = 0;
  for (const key of keys) {
    const current = await store.get(key);
    if (current?.status === 'failed' && (await store.delete(key))) removed += 1;
  }
  return removed;
}
