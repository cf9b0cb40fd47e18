import type { Clock } from '../clock';
import type { ComputationStore } from '../contracts/store';
import type { ComputationLogs, ComputationPatch } from '../record';
import type { TaskLogger } from '../task';
import type { StoreRetryOptions } from './store-retry';

/** What every lifecycle operation may be given besides its own fields. */
export interface LifecycleOptions {
  /** Retries through a store outage. @default 30 s of bounded backoff */
  retry?: StoreRetryOptions;
  clock?: Clock;
  logger?: TaskLogger;
  /** Stops retrying (shutdown). */
  signal?: AbortSignal;
}

/** The fields of a computation that ends now. */
export interface EndingFields {
  /** @default clock.now() */
  finishedAt?: number;
  /**
   * Seconds the record lives once ended. When absent the record's own `ttl` is read
   * first (one more round trip); `null` writes no `expiresAt`.
   */
  ttl?: number | null;
  /** The last progress, written in the same update. */
  progress?: { value: unknown };
  /** The computation's `ctx.log` lines, written in the same update. */
  logs?: ComputationLogs;
}

/**
 * `finishedAt`, `expiresAt` and the last progress of an ending write, added to `patch` (the
 * write's own fields: one object, no copy); a promise only when the record's `ttl` must be
 * read first.
 */
export function endingPatch(
  store: ComputationStore,
  key: string,
  fields: EndingFields,
  finishedAt: number,
  patch: ComputationPatch = {},
): ComputationPatch | Promise<ComputationPatch> {
  if (fields.ttl === undefined) {
    return store.get(key).then((record) => withEnding(patch, fields, finishedAt, record?.ttl));
  }
  return withEnding(patch, fields, finishedAt, fields.ttl ?? undefined);
}

function withEnding(
  patch: ComputationPatch,
  fields: EndingFields,
  finishedAt: number,
  ttl: number | undefined,
): ComputationPatch {
  patch.finishedAt = finishedAt;
  if (ttl !== undefined) patch.expiresAt = finishedAt + ttl * 1000;
  if (fields.progress !== undefined) patch.progress = fields.progress.value;
  if (fields.logs !== undefined) patch.logs = fields.logs;
  return patch;
}
