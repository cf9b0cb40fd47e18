import { applyPatch, isExpired } from '../apply-patch';
import { type Clock, systemClock } from '../clock';
import type { ScheduleRepository } from '../contracts/scheduler';
import type {
  ClaimOptions,
  ClaimResult,
  ComputationStore,
  CountQuery,
  ListPage,
  ListQuery,
  StoreCapabilities,
  UpdateOptions,
  WatchFilter,
} from '../contracts/store';
import { ClosedError } from '../errors/closed-error';
import { KeyExistsError } from '../errors/key-exists-error';
import { AllWatchers } from '../internal/all-watchers';
import { checkOptions, optionNames } from '../internal/check-options';
import { assertValidKey } from '../keys';
import { applyClaim } from '../lifecycle/claim';
import { matchesListQuery, normalizeListQuery, pageRecords } from '../list-query';
import { createPushIterable, type PushIterable } from '../push-iterable';
import type { ComputationPatch, ComputationRecord } from '../record';
import { isTerminalStatus } from '../status';
import { checkWatchFilter } from '../watch-filter';
import { MemoryScheduleRepository } from './memory-schedule-repository';

export interface MemoryStoreOptions {
  /** Time source for TTL checks. @default systemClock */
  clock?: Clock;
}

const NAME = 'memory';

type Watchers = PushIterable<ComputationRecord> | Set<PushIterable<ComputationRecord>>;

const MEMORY_STORE_OPTIONS = optionNames<MemoryStoreOptions>({ clock: true });

/**
 * Records in a `Map` of this process: the fastest store, gone when the process ends.
 * `watch` pushes every change. Records are returned as shallow copies.
 */
export class MemoryStore implements ComputationStore {
  readonly name = NAME;
  readonly capabilities: StoreCapabilities = { watch: true, watchAll: true, shared: false, nativeTtl: false };
  /** Schedules of core's `StoreScheduler`, kept as long as the store object. */
  readonly schedules: ScheduleRepository = new MemoryScheduleRepository();
  readonly #records = new Map<string, ComputationRecord>();
  /** Each key's watchers: one alone (the usual `result()`), or a Set of several. */
  readonly #watchers = new Map<string, Watchers>();
  readonly #clock: Clock;
  readonly #allWatchers = new AllWatchers();
  #closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    checkOptions(`[${NAME}] MemoryStore`, options, MEMORY_STORE_OPTIONS);
    this.#clock = options.clock ?? systemClock;
  }

  async get(key: string): Promise<ComputationRecord | undefined> {
    this.#assertOpen();

    const record = this.#live(key);
    return record === undefined ? undefined : { ...record };
  }

  async create(record: ComputationRecord): Promise<void> {
    this.#assertOpen();
    assertValidKey(record.key, NAME);
    if (this.#live(record.key) !== undefined) throw new KeyExistsError({ key: record.key, store: NAME });
    this.#records.set(record.key, { ...record });
    if (this.#allWatchers.active) this.#allWatchers.notify(record);
  }

  async createMany(records: readonly ComputationRecord[]): Promise<void> {
    this.#assertOpen();
    const keys = new Set<string>();
    for (const record of records) {
      assertValidKey(record.key, NAME);
      if (keys.has(record.key) || this.#live(record.key) !== undefined) {
        throw new KeyExistsError({ key: record.key, store: NAME });
      }
      keys.add(record.key);
    }
    for (const record of records) this.#records.set(record.key, { ...record });
    if (this.#allWatchers.active) for (const record of records) this.#allWatchers.notify(record);
  }

  async claim(key: string, options: ClaimOptions): Promise<ClaimResult> {
    this.#assertOpen();
    const current = this.#live(key);
    if (current === undefined) return { claimed: false, record: undefined };
    const next = applyClaim(current, options);
    if (next === undefined) return { claimed: false, record: { ...current } };
    this.#records.set(key, next);
    this.#notify(next);
    return { claimed: true, record: { ...next } };
  }

  async update(
    key: string,
    patch: ComputationPatch,
    options: UpdateOptions = {},
  ): Promise<ComputationRecord | undefined> {
    this.#assertOpen();

    const current = this.#live(key);
    if (current === undefined) return undefined;
    const next = applyPatch(current, patch, options.ifStatus, options.reopen === true);
    if (next === undefined) return undefined;
    this.#records.set(key, next);
    this.#notify(next);
    return { ...next };
  }

  async delete(key: string): Promise<boolean> {
    this.#assertOpen();

    const existed = this.#live(key) !== undefined;
    this.#records.delete(key);
    return existed;
  }

  async list(query?: ListQuery): Promise<ListPage> {
    this.#assertOpen();
    const normalized = normalizeListQuery(query);
    const now = this.#clock.now();
    const live: ComputationRecord[] = [];
    for (const record of this.#records.values()) if (!isExpired(record, now)) live.push(record);
    const page = pageRecords(live, normalized);
    return { ...page, records: page.records.map((record) => ({ ...record })) };
  }

  async count(query: CountQuery = {}): Promise<number> {
    this.#assertOpen();
    const normalized = normalizeListQuery(query);
    const now = this.#clock.now();
    let total = 0;
    for (const record of this.#records.values()) {
      if (!isExpired(record, now) && matchesListQuery(record, normalized)) total += 1;
    }
    return total;
  }

  watch(key: string, signal?: AbortSignal): AsyncIterable<ComputationRecord> {
    this.#assertOpen();
    assertValidKey(key, NAME);
    // No listener (and no closure for one) without a signal: the usual `result()` has none.
    const onAbort = signal === undefined ? undefined : () => iterable.end();
    const iterable = createPushIterable<ComputationRecord>(() => {
      this.#unwatch(key, iterable);
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
    });
    const held = this.#watchers.get(key);
    if (held === undefined) this.#watchers.set(key, iterable);
    else if (held instanceof Set) held.add(iterable);
    else this.#watchers.set(key, new Set([held, iterable]));
    if (signal?.aborted) iterable.end();
    else if (onAbort !== undefined) signal?.addEventListener('abort', onAbort, { once: true });
    return iterable;
  }

  watchAll(filter: WatchFilter, signal?: AbortSignal): AsyncIterable<ComputationRecord> {
    this.#assertOpen();
    checkWatchFilter(filter, `[${NAME}] watchAll filter`);
    return this.#allWatchers.watch(filter, signal);
  }

  async cleanupExpired(now: number = this.#clock.now()): Promise<number> {
    this.#assertOpen();
    let removed = 0;
    for (const [key, record] of this.#records) {
      if (isExpired(record, now)) {
        this.#records.delete(key);
        removed += 1;
      }
    }
    return removed;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const held of this.#watchers.values()) {
      if (held instanceof Set) for (const watcher of held) watcher.end();
      else held.end();
    }
    this.#watchers.clear();
    this.#allWatchers.end();
  }

  /** Number of records held, expired ones included (for tests and metrics). */
  get size(): number {
    return this.#records.size;
  }

  // ---- private helpers ------------------------------------------------------------

  /** The live record; a key never stored is checked here (stored ones were checked by `create`). */
  #live(key: string): ComputationRecord | undefined {
    const record = this.#records.get(key);
    if (record === undefined) {
      assertValidKey(key, NAME);
      return undefined;
    }
    if (isExpired(record, this.#clock.now())) {
      this.#records.delete(key);
      return undefined;
    }
    return record;
  }

  #notify(record: ComputationRecord): void {
    if (this.#allWatchers.active) this.#allWatchers.notify(record);
    const held = this.#watchers.get(record.key);
    if (held === undefined) return;
    const terminal = isTerminalStatus(record.status);
    if (!(held instanceof Set)) {
      held.push({ ...record });
      if (terminal) held.end();
      return;
    }
    // A Set may lose its entries while it is iterated (`end` takes the watcher out): no copy.
    for (const watcher of held) {
      watcher.push({ ...record });
      if (terminal) watcher.end();
    }
  }

  #unwatch(key: string, watcher: PushIterable<ComputationRecord>): void {
    const held = this.#watchers.get(key);
    if (held === watcher) this.#watchers.delete(key);
    else if (held instanceof Set) {
      held.delete(watcher);
      if (held.size === 0) this.#watchers.delete(key);
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError({ component: `store ${NAME}` });
  }
}
