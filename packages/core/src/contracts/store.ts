import type { ComputationPatch, ComputationRecord } from '../record';
import type { ComputationStatus } from '../status';
import type { ScheduleRepository } from './scheduler';

/**
 * # ComputationStore
 *
 * Where computation records live. A store is the single source of truth about a
 * computation: backends write to it through the executor, handles read from it, and a
 * cancel is decided by it (an atomic conditional update).
 *
 * Required: `get`, `create`, `update`, `delete`, `list`, `cleanupExpired`, `close`.
 * Optional: `watch` and `watchAll` (push instead of polling), announced in
 * `capabilities`; `count` (core pages through `list` without it); `claim`
 * and `createMany`, one round trip where core would otherwise make several (core
 * falls back to `get` + `update` and to `create` when a store has none); `schedules`,
 * where core's `StoreScheduler` keeps schedules.
 *
 * Left out on purpose: transactions over several records, secondary indexes beyond
 * status/task/tag, and queueing (that is a backend's job).
 *
 * Every implementation passes `testStore` from `@au/testing`.
 */
export interface ComputationStore {
  /** Short name for messages and logs, e.g. `memory`, `fs`, `redis`. */
  readonly name: string;
  /** What this store can do beyond the required methods. */
  readonly capabilities: StoreCapabilities;
  /**
   * Where the records live, the same for every store object over the same records in
   * any process, e.g. `redis://127.0.0.1:6379/0#au:` or `fs:/var/lib/au`. Backends
   * compare it so that a producer and a worker over different stores fail at start-up
   * instead of skipping each other's work. Carries no secret (no password). Optional:
   * a store without it is bound by object identity only.
   */
  readonly id?: string;

  /**
   * Schedule persistence for core's `StoreScheduler` (schedules survive a restart when
   * the store does). Optional: without it, and without a backend scheduler, schedules
   * cannot be made over this store.
   */
  readonly schedules?: ScheduleRepository;

  // ---- Reading --------------------------------------------------------------------

  /** The record, or `undefined` when there is none or it has expired. */
  get(key: string): Promise<ComputationRecord | undefined>;

  /**
   * Records, newest first (by `createdAt`, then key), filtered and paged. Expired
   * records are never listed. Pass the returned `cursor` to get the next page.
   */
  list(query?: ListQuery): Promise<ListPage>;

  /**
   * Each new version of the record, from the moment of the call, until the signal
   * aborts or the record reaches a terminal status (that version is yielded, then the
   * iteration ends). Subscribe before reading the current state to miss nothing.
   */
  watch?(key: string, signal?: AbortSignal): AsyncIterable<ComputationRecord>;

  /**
   * Every new record and every new version of a record that matches `filter`, from the
   * moment of the call until the signal aborts (or the store closes). Unlike `watch`,
   * it does not end at a terminal status: it follows the whole store. Versions may be
   * coalesced (a watcher may miss an intermediate version, never the latest). Use
   * `watchComputations` from core, which falls back to polling `list` for a store
   * without it. Announced by `capabilities.watchAll`.
   */
  watchAll?(filter: WatchFilter, signal?: AbortSignal): AsyncIterable<ComputationRecord>;

  /**
   * How many live records match the filters (expired ones are never counted), without
   * reading them. Optional; `countComputations` pages through `list` when a store has none.
   */
  count?(query?: CountQuery): Promise<number>;

  // ---- Writing --------------------------------------------------------------------

  /** Stores a new record. Throws `KeyExistsError` when the key already has one. */
  create(record: ComputationRecord): Promise<void>;

  /**
   * Stores several new records at once, all or none: when a key already has a record,
   * throws `KeyExistsError` and stores nothing. Optional; `launchMany` uses it.
   */
  createMany?(records: readonly ComputationRecord[]): Promise<void>;

  /**
   * The executor's claim in one atomic step: when the record is `pending` (or
   * `running` and `reclaimRunning` is set), makes it `running` with `attempt + 1`,
   * `startedAt: options.now` and no `runAt`, and returns `{ claimed: true, record }`
   * (the new version). Otherwise writes nothing and returns `{ claimed: false, record }`
   * with the current record (`undefined` when there is none or it has expired).
   * Optional; the executor falls back to `get` then a conditional `update`.
   */
  claim?(key: string, options: ClaimOptions): Promise<ClaimResult>;

  /**
   * Applies `patch` atomically and returns the new record, or `undefined` when nothing
   * was written: no record, expired, its status not in `ifStatus`, or a terminal record
   * whose status, value or error the patch would change (see `applyPatch`).
   */
  update(
    key: string,
    patch: ComputationPatch,
    options?: UpdateOptions,
  ): Promise<ComputationRecord | undefined>;

  /** Removes the record; `true` when there was one. */
  delete(key: string): Promise<boolean>;

  // ---- Housekeeping ---------------------------------------------------------------

  /** Removes every record whose `expiresAt` is at or before `now`; returns how many. */
  cleanupExpired(now?: number): Promise<number>;

  /** Releases connections, watchers and timers. Further calls fail with `ClosedError`. */
  close(): Promise<void>;
}

export interface StoreCapabilities {
  /** `watch` is implemented (push); handles poll otherwise. */
  watch: boolean;
  /** `watchAll` is implemented (push); `watchComputations` polls otherwise. @default false */
  watchAll?: boolean;
  /** Records are visible to other processes (fs, Redis, Postgres), not only this one. */
  shared: boolean;
  /** Expired records disappear without `cleanupExpired` (e.g. Redis TTLs). */
  nativeTtl: boolean;
}

export interface ClaimOptions {
  /** The claim's time: the record's new `startedAt`. */
  now: number;
  /** Also claim a record left `running` (a re-delivery after its worker died). @default false */
  reclaimRunning?: boolean;
}

export type ClaimResult =
  | { claimed: true; record: ComputationRecord }
  | { claimed: false; record: ComputationRecord | undefined };

export interface UpdateOptions {
  /** Apply only when the current status is one of these. */
  ifStatus?: readonly ComputationStatus[];
  /**
   * Lets a `failed` or `cancelled` record go back to `pending` (the patch may then clear
   * its value and error): the one way a terminal record changes, used only by core's
   * `retryComputation`. Give it with `ifStatus` naming the status read. @default false
   */
  reopen?: boolean;
}

export interface ListQuery {
  /** One status or several. */
  status?: ComputationStatus | readonly ComputationStatus[];
  task?: string;
  /** Records carrying this tag. */
  tag?: string;
  /** Page size: 1 to 1000. @default 100 */
  limit?: number;
  /** From a previous page's `cursor`. */
  cursor?: string;
}

/** Which computations `watchAll` follows: all of them, or those of a task, a tag or statuses. */
export interface WatchFilter {
  task?: string;
  /** Records carrying this tag. */
  tag?: string;
  /** One status or several: versions with another status are left out. */
  status?: ComputationStatus | readonly ComputationStatus[];
}

/** The filters of `count`: those of `list`, without the paging. */
export interface CountQuery {
  /** One status or several. */
  status?: ComputationStatus | readonly ComputationStatus[];
  task?: string;
  /** Records carrying this tag. */
  tag?: string;
}

export interface ListPage {
  records: ComputationRecord[];
  /** Present when there may be more records. */
  cursor?: string;
}
