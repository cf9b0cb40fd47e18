import type { Invocation } from '../contracts/backend';
import type { ComputationRecord } from '../record';
import type { TaskDefinition } from '../task';

/**
 * At most `limit` computations of a task with one key run at once, across every worker
 * of the backend (in memory locally, in Redis on BullMQ, in SQL on the Postgres queue).
 * The others wait, in priority order. `limit: 1` is a per-key mutex.
 */
export interface ConcurrencyLimit<Input = unknown> {
  /** The group a computation belongs to, from its input. @default one group for the whole task */
  key?(input: Input): string;
  /** Computations of one key running at once: a whole number ≥ 1. */
  limit: number;
}

/**
 * At most `limit` computations of a task with one key start per `interval` ms, across
 * every worker. Work over the limit is delayed until the window has room, never refused.
 */
export interface RateLimit<Input = unknown> {
  /** Starts allowed per `interval`: a whole number ≥ 1. */
  limit: number;
  /** The window, in ms: a whole number ≥ 1. */
  interval: number;
  /** The group a computation counts against, from its input. @default one group for the whole task */
  key?(input: Input): string;
}

/** What core computed at launch and hands the backend to enforce (`Invocation.concurrency`). */
export interface ConcurrencyGroup {
  /** `<task>` or `<task>:<key>`: groups never span tasks. */
  key: string;
  limit: number;
}

/** What core computed at launch and hands the backend to enforce (`Invocation.rateLimit`). */
export interface RateLimitGroup {
  /** `<task>` or `<task>:<key>`. */
  key: string;
  limit: number;
  /** ms */
  interval: number;
}

/** The group keys a launch computed, kept in `record.meta` so a retry or a resumed hold finds them. */
export const CONCURRENCY_KEY_META = 'concurrencyKey';
export const RATE_LIMIT_KEY_META = 'rateLimitKey';

const MAX_GROUP_KEY_LENGTH = 200;

/** Refuses a `concurrency` option that cannot work, at `defineTask`. */
export function checkConcurrencyLimit(where: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(
      `[au] ${where}: \`concurrency\` must be { limit, key? }, got ${JSON.stringify(value)}`,
    );
  }
  const { limit, key } = value as ConcurrencyLimit;
  checkWholeNumber(where, 'concurrency.limit', limit, 'computations of one key running at once');
  checkKeyFunction(where, 'concurrency.key', key);
  checkOnly(where, 'concurrency', value, ['limit', 'key']);
}

/** Refuses a `rateLimit` option that cannot work, at `defineTask`. */
export function checkRateLimit(where: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(
      `[au] ${where}: \`rateLimit\` must be { limit, interval, key? }, got ${JSON.stringify(value)}`,
    );
  }
  const { limit, interval, key } = value as RateLimit;
  checkWholeNumber(where, 'rateLimit.limit', limit, 'starts per interval');
  checkWholeNumber(where, 'rateLimit.interval', interval, 'ms');
  checkKeyFunction(where, 'rateLimit.key', key);
  checkOnly(where, 'rateLimit', value, ['limit', 'interval', 'key']);
}

/**
 * The groups of a launch, from its validated input: written into the invocation and, by
 * key, into the record's meta. A key function that throws or returns something other than
 * a non-empty string is the caller's error (`TypeError`), raised before anything is written.
 */
export function flowGroupsOf(
  task: TaskDefinition,
  input: unknown,
): { concurrency?: ConcurrencyGroup; rateLimit?: RateLimitGroup; meta: Record<string, string> } {
  const meta: Record<string, string> = {};
  const groups: { concurrency?: ConcurrencyGroup; rateLimit?: RateLimitGroup; meta: Record<string, string> } =
    {
      meta,
    };
  if (task.concurrency !== undefined) {
    const key = groupKey(task, 'concurrency.key', task.concurrency.key, input);
    groups.concurrency = { key, limit: task.concurrency.limit };
    meta[CONCURRENCY_KEY_META] = key;
  }
  if (task.rateLimit !== undefined) {
    const key = groupKey(task, 'rateLimit.key', task.rateLimit.key, input);
    groups.rateLimit = { key, limit: task.rateLimit.limit, interval: task.rateLimit.interval };
    meta[RATE_LIMIT_KEY_META] = key;
  }
  return groups;
}

/**
 * The groups of a computation launched before (a retry, a resumed hold), from the keys its
 * launch kept in `record.meta` and the task's current limits. A record written before the
 * task had a limit falls in the task-wide group.
 */
export function flowGroupsOfRecord(
  task: TaskDefinition,
  record: ComputationRecord,
): Pick<Invocation, 'concurrency' | 'rateLimit'> {
  const groups: Pick<Invocation, 'concurrency' | 'rateLimit'> = {};
  const kept = record.meta ?? {};
  if (task.concurrency !== undefined) {
    const key = kept[CONCURRENCY_KEY_META];
    groups.concurrency = { key: typeof key === 'string' ? key : task.name, limit: task.concurrency.limit };
  }
  if (task.rateLimit !== undefined) {
    const key = kept[RATE_LIMIT_KEY_META];
    groups.rateLimit = {
      key: typeof key === 'string' ? key : task.name,
      limit: task.rateLimit.limit,
      interval: task.rateLimit.interval,
    };
  }
  return groups;
}

function groupKey(
  task: TaskDefinition,
  option: string,
  keyOf: ((input: never) => string) | undefined,
  input: unknown,
): string {
  if (keyOf === undefined) return task.name;
  let key: unknown;
  try {
    key = (keyOf as (input: unknown) => unknown)(input);
  } catch (error) {
    throw new TypeError(
      `[au] launch of "${task.name}": \`${option}\` threw: ${(error as Error)?.message ?? String(error)}`,
      { cause: error },
    );
  }
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_GROUP_KEY_LENGTH) {
    throw new TypeError(
      `[au] launch of "${task.name}": \`${option}\` must return a string of 1 to ${MAX_GROUP_KEY_LENGTH} characters, got ${JSON.stringify(key)}`,
    );
  }
  return `${task.name}:${key}`;
}

function checkWholeNumber(where: string, option: string, value: unknown, unit: string): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(
      `[au] ${where}: \`${option}\` must be a whole number ≥ 1 (${unit}), got ${String(value)}`,
    );
  }
}

function checkKeyFunction(where: string, option: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new TypeError(`[au] ${where}: \`${option}\` must be a function of the input returning a string`);
  }
}

function checkOnly(where: string, option: string, value: object, known: readonly string[]): void {
  const unknown = Object.keys(value).filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new TypeError(
      `[au] ${where}: unknown \`${option}\` option${unknown.length > 1 ? 's' : ''} ${unknown.map((name) => `"${name}"`).join(', ')} (known: ${known.join(', ')})`,
    );
  }
}
