import type { ListQuery } from './contracts/store';
import { ConfigError } from './errors/config-error';
import type { ComputationRecord } from './record';
import type { ComputationStatus } from './status';

/** Page size when none is asked for. */
export const DEFAULT_LIST_LIMIT = 100;
/** Largest page a store returns. */
export const MAX_LIST_LIMIT = 1000;

/** A list query with defaults applied and the cursor decoded; shared by the JavaScript stores. */
export interface NormalizedListQuery {
  statuses: readonly ComputationStatus[] | undefined;
  task: string | undefined;
  tag: string | undefined;
  limit: number;
  /** Position after which the page starts (newest first). */
  after: ListPosition | undefined;
}

/** Where a record sits in the list order: newest `createdAt` first, then key descending. */
export interface ListPosition {
  createdAt: number;
  key: string;
}

export function normalizeListQuery(query: ListQuery = {}): NormalizedListQuery {
  const limit = query.limit ?? DEFAULT_LIST_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new ConfigError({
      setting: 'list limit',
      message: `must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${limit}`,
    });
  }
  const statuses =
    query.status === undefined ? undefined : typeof query.status === 'string' ? [query.status] : query.status;
  return {
    statuses,
    task: query.task,
    tag: query.tag,
    limit,
    after: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
  };
}

/** An opaque cursor for the position of the last record of a page. */
export function encodeCursor(position: ListPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.key])).toString('base64url');
}

export function decodeCursor(cursor: string): ListPosition {
  try {
    const [createdAt, key] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [
      unknown,
      unknown,
    ];
    if (typeof createdAt === 'number' && typeof key === 'string') return { createdAt, key };
  } catch {
    // fall through to the error below
  }
  throw new ConfigError({
    setting: 'list cursor',
    message: 'is not a cursor returned by list(): start again without it',
  });
}

/** List order: newest first, ties broken by key, descending. Negative when `a` comes first. */
export function compareListOrder(a: ListPosition, b: ListPosition): number {
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt;
  return a.key < b.key ? 1 : a.key > b.key ? -1 : 0;
}

/** Whether a record matches the query's filters (not the paging). */
export function matchesListQuery(record: ComputationRecord, query: NormalizedListQuery): boolean {
  if (query.statuses !== undefined && !query.statuses.includes(record.status)) return false;
  if (query.task !== undefined && record.task !== query.task) return false;
  if (query.tag !== undefined && !(record.tags ?? []).includes(query.tag)) return false;
  return true;
}

/**
 * Filters, sorts and pages records in memory: for stores without indexes of their own
 * (memory, fs). Returns the page and, when more may follow, its cursor.
 */
export function pageRecords(
  records: Iterable<ComputationRecord>,
  query: NormalizedListQuery,
): { records: ComputationRecord[]; cursor?: string } {
  const matching: ComputationRecord[] = [];
  for (const record of records) {
    if (!matchesListQuery(record, query)) continue;
    if (query.after !== undefined && compareListOrder(record, query.after) <= 0) continue;
    matching.push(record);
  }
  matching.sort(compareListOrder);
  const page = matching.slice(0, query.limit);
  const last = page[page.length - 1];
  return matching.length > query.limit && last !== undefined
    ? { records: page, cursor: encodeCursor(last) }
    : { records: page };
}
