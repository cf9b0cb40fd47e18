import {
  assertValidKey,
  type ClaimOptions,
  type ClaimResult,
  type Clock,
  ClosedError,
  type ComputationPatch,
  type ComputationRecord,
  type ComputationStore,
  type CountQuery,
  checkWatchFilter,
  isTerminalStatus,
  KeyExistsError,
  type ListPage,
  type ListQuery,
  type ScheduleRepository,
  type StoreCapabilities,
  systemClock,
  type UpdateOptions,
  type WatchFilter,
} from '@au/core';
import {
  AllWatchers,
  checkOptions,
  createPushIterable,
  encodeCursor,
  normalizeListQuery,
  optionNames,
  type PushIterable,
} from '@au/core/kit';
import type { ChainableCommander, Redis, RedisOptions } from 'ioredis';
import { RedisUnavailableError } from './errors/redis-unavailable-error';
import {
  claimScript,
  cleanupScript,
  countScript,
  createManyScript,
  createScript,
  deleteScript,
  listScript,
  updateScript,
} from './lua-scripts';
import { isConnectionError, openRedis, quit } from './redis-connection';
import { RedisKeyLayout } from './redis-key-layout';
import { RedisScheduleRepository } from './redis-schedule-repository';
import { ScriptBatch } from './script-batch';

/** `RedisStore.createManyIn`: a `createMany` to send in another connection's transaction. */
export interface TransactionalCreate {
  /** Adds the create to `transaction`, a MULTI of the client it was made for. */
  addTo(transaction: ChainableCommander): void;
  /** Reads its reply from `exec`'s results; throws `KeyExistsError` when a key was taken. */
  read(reply: [error: Error | null, result: unknown]): void;
}

export interface RedisStoreOptions {
  /**
   * The connection: an ioredis instance (used as is and left open on `close`), a
   * `redis://` / `rediss://` URL, or ioredis options (both opened and closed by the store).
   * @default 'redis://127.0.0.1:6379'
   */
  redis?: Redis | string | RedisOptions;
  /** Namespace of this application's keys; becomes the hash tag `{prefix}`. @default 'au' */
  prefix?: string;
  /** Time source for expiry checks. @default systemClock */
  clock?: Clock;
  /** Index entries `list` may walk in one call before it returns a short page with a cursor. @default 5000 */
  listBudget?: number;
  /**
   * Where the records live, compared by backends so that producers and workers over
   * different stores fail at start-up. Set the same value in every process when they
   * reach one Redis under different host names (e.g. `redis` in one container and an
   * IP address in another). @default `redis://<host>:<port>/<db>#<hash tag>` of the connection, no password
   */
  id?: string;
}

const NAME = 'redis';
const REDIS_STORE_OPTIONS = optionNames<RedisStoreOptions>({
  redis: true,
  prefix: true,
  clock: true,
  listBudget: true,
  id: true,
});
const CLEANUP_BATCH = 1000;
/** Index entries one count script call reads. */
const COUNT_CHUNK = 2000;
/** The most claims or updates one script call carries. */
const SCRIPT_BATCH = 200;
/** The most characters of field values one batched update call carries (large values go alone). */
const SCRIPT_BATCH_CHARACTERS = 1_000_000;
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FIXED_FIELDS = new Set(['key', 'task', 'createdAt']);

/**
 * The store's Lua scripts, as ioredis custom commands. Long argument lists go in as one
 * array (ioredis flattens it): spread into the call, a batch of thousands of records
 * overflows the JavaScript stack.
 */
interface ScriptCommands {
  auStoreCreate(recordKey: string, ...args: string[]): Promise<number>;
  auStoreCreateMany(
    base: string,
    now: string,
    conflictFlag: string,
    records: readonly string[],
  ): Promise<number | string>;
  auStoreClaim(
    keyCount: number,
    keys: readonly string[],
    args: readonly string[],
  ): Promise<(ClaimReply | Error)[]>;
  auStoreUpdate(
    keyCount: number,
    keys: readonly string[],
    args: readonly string[],
  ): Promise<(string | null | Error)[]>;
  auStoreDelete(recordKey: string, ...args: string[]): Promise<number>;
  auStoreList(...args: (string | number)[]): Promise<string[]>;
  auStoreCleanup(...args: string[]): Promise<number>;
  auStoreCount(indexKey: string, ...args: string[]): Promise<[number, number]>;
}
type ScriptedRedis = Redis & ScriptCommands;
/** The scripts a transaction of a client they are defined on queues. */
type QueuedScriptCommands = {
  [Name in keyof ScriptCommands]: (...args: Parameters<ScriptCommands[Name]>) => ChainableCommander;
};
/** A claim's reply: nothing when there is no live record, else whether it was claimed and the record. */
type ClaimReply = [number, string] | null;
interface ClaimCall {
  key: string;
  reclaimRunning: boolean;
  startedAt: number;
}
interface UpdateCall {
  key: string;
  ifStatus: string;
  touchesValueOrError: boolean;
  reopen: boolean;
  sets: string[];
  removes: string[];
}

/**
 * Computation records in Redis: one hash per record (a `get` is one `HGETALL`), native
 * TTLs, conditional updates in one Lua script that mirrors core's `applyPatch`, sorted-set
 * indexes per status, task and tag for `list`, and `watch` over pub/sub (one subscriber
 * connection per store). Keys carry the hash tag `{prefix}`: Redis Cluster safe.
 */
export class RedisStore implements ComputationStore {
  readonly name = NAME;
  readonly capabilities: StoreCapabilities = { watch: true, watchAll: true, shared: true, nativeTtl: true };
  /** The key layout (prefix, hash tag), e.g. for tooling that inspects the keys. */
  readonly keys: RedisKeyLayout;
  /** Where the records live, e.g. `redis://127.0.0.1:6379/0#{au}`: the server, the database and the hash tag. */
  readonly id: string;
  readonly #redis: ScriptedRedis;
  /** Schedules of core's `StoreScheduler`, in the hash `{prefix}:schedules`. */
  readonly schedules: ScheduleRepository;
  readonly #ownsConnection: boolean;
  readonly #clock: Clock;
  readonly #listBudget: number;
  readonly #watchers = new Map<string, Set<PushIterable<ComputationRecord>>>();
  readonly #pendingSubscriptions = new Set<Promise<unknown>>();
  readonly #allWatchers = new AllWatchers();
  /** Set while the subscriber listens to every record's channel and to new records. */
  #allSubscribed = false;
  readonly #claims = new ScriptBatch<ClaimCall, ClaimReply>((calls) => this.#sendClaims(calls), SCRIPT_BATCH);
  readonly #updates = new ScriptBatch<UpdateCall, string | null>(
    (calls) => this.#sendUpdates(calls),
    SCRIPT_BATCH,
    { of: charactersOf, max: SCRIPT_BATCH_CHARACTERS },
  );
  #subscriber: Redis | undefined;
  #closed = false;

  constructor(options: RedisStoreOptions = {}) {
    checkOptions(`[${NAME}] RedisStore`, options, REDIS_STORE_OPTIONS);
    this.keys = new RedisKeyLayout(options.prefix ?? 'au');
    this.#clock = options.clock ?? systemClock;
    this.#listBudget = options.listBudget ?? 5000;
    const { redis, owned } = openRedis(options.redis);
    this.#redis = redis as ScriptedRedis;
    this.#ownsConnection = owned;
    defineScripts(this.#redis);
    this.schedules = new RedisScheduleRepository({
      key: this.keys.schedules(),
      run: (operation, command) => {
        this.#assertOpen();
        return this.#call(operation, () => command(this.#redis));
      },
    });
    this.id = options.id ?? storeIdOf(this.#redis, this.keys.base);
  }

  /** Opens a store from a `redis://` or `rediss://` URL. */
  static fromUrl(url: string, options: Omit<RedisStoreOptions, 'redis'> = {}): RedisStore {
    return new RedisStore({ ...options, redis: url });
  }

  /** The connection this store uses (for tooling and tests). */
  get redis(): Redis {
    return this.#redis;
  }

  async get(key: string): Promise<ComputationRecord | undefined> {
    this.#assertOpen();
    assertValidKey(key, NAME);
    await this.#subscriptionsSettled();
    const flat = await this.#call('get', () => this.#redis.hgetall(this.keys.record(key)));
    const record = fromHash(flat);
    if (record === undefined || this.#expired(record)) return undefined;
    return record;
  }

  async create(record: ComputationRecord): Promise<void> {
    this.#assertOpen();
    assertValidKey(record.key, NAME);
    await this.#subscriptionsSettled();
    const fields = toFields(record);
    const created = await this.#call('create', () =>
      this.#redis.auStoreCreate(
        this.keys.record(record.key),
        this.keys.base,
        record.key,
        String(this.#clock.now()),
        ...indexEntry(record),
        ...fields,
      ),
    );
    if (created !== 1) throw new KeyExistsError({ key: record.key, store: NAME });
  }

  /** All or none, in one script (one round trip). */
  async createMany(records: readonly ComputationRecord[]): Promise<void> {
    this.#assertOpen();
    const args = createManyArguments(records);
    if (records.length === 0) return;
    await this.#subscriptionsSettled();
    const reply = await this.#call('createMany', () =>
      this.#redis.auStoreCreateMany(this.keys.base, String(this.#clock.now()), '', args),
    );
    assertAllCreated(reply);
  }

  /**
   * `createMany` as one command of a MULTI of `client`: another connection to this
   * store's Redis server and database, such as a queue's. For a backend that writes the
   * records and its queue entries in one transaction (the BullMQ backend's
   * `createAndLaunch`). Not on Redis Cluster: the transaction's keys are in other slots.
   * The script is defined on `client` here, so make the MULTI after this resolves, then
   * `addTo` it. When a key is taken nothing is created, and `conflictFlag`, when given,
   * is set to `'1'` (with no expiry: the transaction's later commands read it and delete
   * it). `read` takes the command's reply from `exec`'s results and throws
   * `KeyExistsError` when a key was taken.
   */
  async createManyIn(
    client: Redis,
    records: readonly ComputationRecord[],
    options: { conflictFlag?: string } = {},
  ): Promise<TransactionalCreate> {
    this.#assertOpen();
    const args = createManyArguments(records);
    await this.#subscriptionsSettled();
    defineScripts(client);
    const base = this.keys.base;
    const now = String(this.#clock.now());
    return {
      addTo: (transaction) => {
        // In a transaction the command only queues; its reply comes in exec's results.
        (transaction as ChainableCommander & QueuedScriptCommands).auStoreCreateMany(
          base,
          now,
          options.conflictFlag ?? '',
          args,
        );
      },
      read: ([error, result]) => {
        if (error !== null) throw error;
        assertAllCreated(result);
      },
    };
  }

  /**
   * `get` and the conditional `update` of a claim, in one script (one round trip); the
   * claims of one tick share one script call.
   */
  async claim(key: string, options: ClaimOptions): Promise<ClaimResult> {
    this.#assertOpen();
    assertValidKey(key, NAME);
    await this.#subscriptionsSettled();
    const reply = await this.#call('claim', () =>
      this.#claims.add({ key, reclaimRunning: options.reclaimRunning === true, startedAt: options.now }),
    );
    if (reply === null) return { claimed: false, record: undefined };
    const record = JSON.parse(reply[1]) as ComputationRecord;
    return reply[0] === 1 ? { claimed: true, record } : { claimed: false, record };
  }

  /** The conditional update, in one script; the updates of one tick share one script call. */
  async update(
    key: string,
    patch: ComputationPatch,
    options: UpdateOptions = {},
  ): Promise<ComputationRecord | undefined> {
    this.#assertOpen();
    assertValidKey(key, NAME);
    await this.#subscriptionsSettled();
    const sets: string[] = [];
    const removes: string[] = [];
    for (const [name, value] of Object.entries(patch)) {
      if (FIXED_FIELDS.has(name)) continue;
      assertFieldName(name);
      const encoded = value === undefined ? undefined : JSON.stringify(value);
      if (encoded !== undefined) sets.push(name, encoded);
      // A record always has a status: `status: undefined` leaves it as it is.
      else if (name !== 'status') removes.push(name);
    }
    const json = await this.#call('update', () =>
      this.#updates.add({
        key,
        ifStatus: options.ifStatus === undefined ? 'null' : JSON.stringify(options.ifStatus),
        touchesValueOrError: 'value' in patch || 'error' in patch,
        reopen: options.reopen === true,
        sets,
        removes,
      }),
    );
    return json === null ? undefined : (JSON.parse(json) as ComputationRecord);
  }

  async delete(key: string): Promise<boolean> {
    this.#assertOpen();
    assertValidKey(key, NAME);
    await this.#subscriptionsSettled();
    const removed = await this.#call('delete', () =>
      this.#redis.auStoreDelete(this.keys.record(key), this.keys.base, key, String(this.#clock.now())),
    );
    return removed === 1;
  }

  async list(query?: ListQuery): Promise<ListPage> {
    this.#assertOpen();
    const normalized = normalizeListQuery(query);
    await this.#subscriptionsSettled();
    // One index drives the walk (task, else tag, else the statuses, else all); the
    // script checks the other filters on each record.
    let indexes: string[];
    if (normalized.task !== undefined) indexes = [this.keys.taskIndex(normalized.task)];
    else if (normalized.tag !== undefined) indexes = [this.keys.tagIndex(normalized.tag)];
    else if (normalized.statuses !== undefined)
      indexes = [...new Set(normalized.statuses)].map((status) => this.keys.statusIndex(status));
    else indexes = [this.keys.allIndex()];
    if (indexes.length === 0) return { records: [] };
    const reply = await this.#call('list', () =>
      this.#redis.auStoreList(
        indexes.length,
        ...indexes,
        this.keys.base,
        String(this.#clock.now()),
        String(normalized.limit),
        String(this.#listBudget),
        normalized.after === undefined ? '' : String(normalized.after.createdAt),
        normalized.after?.key ?? '',
        normalized.statuses === undefined ? 'null' : JSON.stringify(normalized.statuses),
        normalized.task ?? '',
        normalized.tag ?? '',
      ),
    );
    const [budgetHit, lastScore, lastKey, ...jsons] = reply;
    const records = jsons.map((json) => JSON.parse(json) as ComputationRecord);
    if (records.length > normalized.limit) {
      const page = records.slice(0, normalized.limit);
      const last = page[page.length - 1]!;
      return { records: page, cursor: encodeCursor(last) };
    }
    if (Number(budgetHit) === 1 && lastKey !== undefined && lastKey !== '') {
      return { records, cursor: encodeCursor({ createdAt: Number(lastScore), key: lastKey }) };
    }
    return { records };
  }

  /**
   * Walks the smallest index that covers the query (as `list` does) in chunks of
   * `COUNT_CHUNK` entries, one script call each, checking each record's filters and expiry.
   */
  async count(query?: CountQuery): Promise<number> {
    this.#assertOpen();
    const normalized = normalizeListQuery(query);
    await this.#subscriptionsSettled();
    let indexes: string[];
    if (normalized.task !== undefined) indexes = [this.keys.taskIndex(normalized.task)];
    else if (normalized.tag !== undefined) indexes = [this.keys.tagIndex(normalized.tag)];
    else if (normalized.statuses !== undefined)
      indexes = [...new Set(normalized.statuses)].map((status) => this.keys.statusIndex(status));
    else indexes = [this.keys.allIndex()];
    const now = String(this.#clock.now());
    const statuses = normalized.statuses === undefined ? 'null' : JSON.stringify(normalized.statuses);
    let total = 0;
    for (const index of indexes) {
      for (let offset = 0; ; offset += COUNT_CHUNK) {
        const [matched, scanned] = await this.#call('count', () =>
          this.#redis.auStoreCount(
            index,
            this.keys.base,
            now,
            String(offset),
            String(COUNT_CHUNK),
            statuses,
            normalized.task ?? '',
            normalized.tag ?? '',
          ),
        );
        total += Number(matched);
        if (Number(scanned) < COUNT_CHUNK) break;
      }
    }
    return total;
  }

  watch(key: string, signal?: AbortSignal): AsyncIterable<ComputationRecord> {
    this.#assertOpen();
    assertValidKey(key, NAME);
    const channel = this.keys.channel(key);
    let watchers = this.#watchers.get(channel);
    const isNew = watchers === undefined;
    if (watchers === undefined) {
      watchers = new Set();
      this.#watchers.set(channel, watchers);
    }
    const set = watchers;
    const onAbort = () => iterable.end();
    const iterable = createPushIterable<ComputationRecord>(() => {
      set.delete(iterable);
      signal?.removeEventListener('abort', onAbort);
      if (set.size === 0 && this.#watchers.get(channel) === set) {
        this.#watchers.delete(channel);
        if (!this.#closed) this.#subscriber?.unsubscribe(channel).catch(() => undefined);
      }
    });
    set.add(iterable);
    if (isNew) this.#subscribe(channel, key);
    if (signal?.aborted) iterable.end();
    else signal?.addEventListener('abort', onAbort, { once: true });
    return iterable;
  }

  /**
   * Every new record and every new version matching `filter`: the subscriber connection
   * also listens to every record's channel (a pattern) and to new records, while someone
   * watches all. Versions written while the connection was down are not replayed.
   */
  watchAll(filter: WatchFilter, signal?: AbortSignal): AsyncIterable<ComputationRecord> {
    this.#assertOpen();
    checkWatchFilter(filter, `[${NAME}] watchAll filter`);
    const iterable = this.#allWatchers.watch(filter, signal, () => {
      if (this.#closed || !this.#allSubscribed) return;
      this.#allSubscribed = false;
      const subscriber = this.#subscriber;
      subscriber?.punsubscribe(this.keys.channelPattern()).catch(() => undefined);
      subscriber?.unsubscribe(this.keys.newRecords()).catch(() => undefined);
    });
    if (!this.#allSubscribed && this.#allWatchers.active) {
      this.#allSubscribed = true;
      const subscriber = this.#subscriberConnection();
      const subscribed = Promise.all([
        subscriber.psubscribe(this.keys.channelPattern()),
        subscriber.subscribe(this.keys.newRecords()),
      ])
        .catch((error: unknown) => {
          this.#allSubscribed = false;
          this.#allWatchers.end();
          throw error;
        })
        .catch(() => undefined)
        .finally(() => this.#pendingSubscriptions.delete(subscribed));
      this.#pendingSubscriptions.add(subscribed);
    }
    return iterable;
  }

  async cleanupExpired(now: number = this.#clock.now()): Promise<number> {
    this.#assertOpen();
    let removed = 0;
    for (;;) {
      const count = await this.#call('cleanupExpired', () =>
        this.#redis.auStoreCleanup(this.keys.base, String(now), String(CLEANUP_BATCH)),
      );
      removed += count;
      if (count < CLEANUP_BATCH) return removed;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const watchers of this.#watchers.values()) for (const watcher of [...watchers]) watcher.end();
    this.#watchers.clear();
    this.#allWatchers.end();
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    await Promise.all([
      subscriber === undefined ? undefined : quit(subscriber),
      this.#ownsConnection ? quit(this.#redis) : undefined,
    ]);
  }

  // ---- private helpers ------------------------------------------------------------

  #sendClaims(calls: readonly ClaimCall[]): Promise<(ClaimReply | Error)[]> {
    const keys: string[] = [];
    const args: string[] = [this.keys.base, String(this.#clock.now())];
    for (const call of calls) {
      keys.push(this.keys.record(call.key));
      args.push(call.key, call.reclaimRunning ? '1' : '0', JSON.stringify(call.startedAt));
    }
    return this.#redis.auStoreClaim(keys.length, keys, args);
  }

  #sendUpdates(calls: readonly UpdateCall[]): Promise<(string | null | Error)[]> {
    const keys: string[] = [];
    const args: string[] = [this.keys.base, String(this.#clock.now())];
    for (const call of calls) {
      keys.push(this.keys.record(call.key));
      args.push(
        call.key,
        call.ifStatus,
        call.reopen ? 'reopen' : call.touchesValueOrError ? '1' : '0',
        String(call.sets.length / 2),
        String(call.removes.length),
      );
      for (const item of call.sets) args.push(item);
      for (const item of call.removes) args.push(item);
    }
    return this.#redis.auStoreUpdate(keys.length, keys, args);
  }

  #subscriberConnection(): Redis {
    if (this.#subscriber !== undefined) return this.#subscriber;
    // No ready check: ioredis writes a SUBSCRIBE made while the connection is still checking
    // at once (the command may run while Redis loads), which puts the connection in
    // subscriber mode; the check's INFO is then refused, the commands queued meanwhile fail
    // and the connection restarts without that subscription: a watcher that never hears.
    const subscriber = this.#redis.duplicate({
      maxRetriesPerRequest: null,
      enableAutoPipelining: false,
      enableReadyCheck: false,
    });
    subscriber.on('error', () => undefined);
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.keys.newRecords()) this.#deliverToAll(message);
      else this.#deliver(channel, message);
    });
    subscriber.on('pmessage', (_pattern: string, _channel: string, message: string) =>
      this.#deliverToAll(message),
    );
    // After a reconnect messages may have been missed: a watcher whose record ended
    // meanwhile gets that terminal version, so no handle waits forever.
    let connectedOnce = false;
    subscriber.on('ready', () => {
      if (!connectedOnce) {
        connectedOnce = true;
        return;
      }
      for (const channel of this.#watchers.keys()) {
        const key = this.keys.keyOfChannel(channel);
        if (key !== undefined) void this.#deliverIfTerminal(channel, key);
      }
    });
    this.#subscriber = subscriber;
    return subscriber;
  }

  #subscribe(channel: string, key: string, attempt = 0): void {
    const subscribed = this.#subscriberConnection()
      .subscribe(channel)
      // A version written while the subscription was on its way would be missed:
      // a record that ended meanwhile is delivered from a read.
      .then(() => this.#deliverIfTerminal(channel, key))
      .catch((error: unknown) => {
        if (this.#closed) {
          for (const watcher of this.#watchers.get(channel) ?? []) watcher.end(error);
          return;
        }
        // The subscriber connection dropped while the command was on its way (ioredis fails
        // it, e.g. with the reconnect's ready check refused): a hiccup must not fail the
        // watcher's `result()`. Subscribe again, with backoff, while someone still watches.
        const timer = setTimeout(
          () => {
            if (!this.#closed && this.#watchers.has(channel)) this.#subscribe(channel, key, attempt + 1);
          },
          Math.min(50 * 2 ** attempt, 2000),
        );
        timer.unref?.();
      })
      .finally(() => this.#pendingSubscriptions.delete(subscribed));
    this.#pendingSubscriptions.add(subscribed);
  }

  async #deliverIfTerminal(channel: string, key: string): Promise<void> {
    if (this.#closed || !this.#watchers.has(channel)) return;
    const record = fromHash(await this.#redis.hgetall(this.keys.record(key)).catch(() => ({})));
    if (record !== undefined && isTerminalStatus(record.status))
      this.#deliver(channel, JSON.stringify(record));
  }

  #deliver(channel: string, message: string): void {
    const watchers = this.#watchers.get(channel);
    if (watchers === undefined) return;
    for (const watcher of [...watchers]) {
      const record = JSON.parse(message) as ComputationRecord;
      watcher.push(record);
      if (isTerminalStatus(record.status)) watcher.end();
    }
  }

  #deliverToAll(message: string): void {
    if (!this.#allWatchers.active) return;
    try {
      this.#allWatchers.notify(JSON.parse(message) as ComputationRecord);
    } catch {
      // Not a record (another program publishing on the channel): ignored.
    }
  }

  /** Reads and writes wait for subscriptions on their way: `watch` then `get` misses nothing. */
  async #subscriptionsSettled(): Promise<void> {
    if (this.#pendingSubscriptions.size > 0) await Promise.all([...this.#pendingSubscriptions]);
  }

  async #call<T>(operation: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      if (this.#closed) throw new ClosedError({ component: `store ${NAME}` });
      if (isConnectionError(error)) throw new RedisUnavailableError({ operation, cause: error });
      throw error;
    }
  }

  #expired(record: ComputationRecord): boolean {
    return record.expiresAt !== undefined && record.expiresAt <= this.#clock.now();
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError({ component: `store ${NAME}` });
  }
}

/**
 * The id of the records a connection reaches under a hash tag: the server (sentinel group,
 * socket path or host and port; `localhost` and `::1` written `127.0.0.1`), the database
 * and the tag. No user name or password.
 */
function storeIdOf(redis: Redis, base: string): string {
  const { host, port, db, path, sentinels, name } = redis.options;
  const database = db ?? 0;
  if (sentinels !== undefined && sentinels !== null && sentinels.length > 0) {
    return `redis-sentinel://${name ?? 'mymaster'}/${database}#${base}`;
  }
  if (path !== undefined && path !== null && path !== '')
    return `redis+unix://${path}?db=${database}#${base}`;
  return `redis://${canonicalHost(host ?? '127.0.0.1')}:${port ?? 6379}/${database}#${base}`;
}

function canonicalHost(host: string): string {
  const lower = host.toLowerCase();
  return lower === 'localhost' || lower === '::1' || lower === '[::1]' ? '127.0.0.1' : lower;
}

/**
 * `createMany`'s records as its script's arguments: per record its key, index entry,
 * number of field/value pairs and the pairs. Throws `KeyExistsError` for a key given twice.
 */
function createManyArguments(records: readonly ComputationRecord[]): string[] {
  const args: string[] = [];
  const keys = new Set<string>();
  for (const record of records) {
    assertValidKey(record.key, NAME);
    if (keys.has(record.key)) throw new KeyExistsError({ key: record.key, store: NAME });
    keys.add(record.key);
    const fields = toFields(record);
    args.push(record.key, ...indexEntry(record), String(fields.length / 2));
    for (const field of fields) args.push(field);
  }
  return args;
}

/** The create script's reply: 1, or the first key that was taken. */
function assertAllCreated(reply: unknown): void {
  if (reply !== 1) throw new KeyExistsError({ key: String(reply), store: NAME });
}

function defineScripts(redis: Redis): void {
  const scripted = redis as unknown as Partial<ScriptCommands>;
  if (typeof scripted.auStoreCreate === 'function') return;
  redis.defineCommand('auStoreCreate', { numberOfKeys: 1, lua: createScript });
  redis.defineCommand('auStoreCreateMany', { numberOfKeys: 0, lua: createManyScript });
  // Claims and updates come in batches: the number of keys is the first argument.
  redis.defineCommand('auStoreClaim', { lua: claimScript });
  redis.defineCommand('auStoreUpdate', { lua: updateScript });
  redis.defineCommand('auStoreDelete', { numberOfKeys: 1, lua: deleteScript });
  redis.defineCommand('auStoreList', { lua: listScript });
  redis.defineCommand('auStoreCleanup', { numberOfKeys: 0, lua: cleanupScript });
  redis.defineCommand('auStoreCount', { numberOfKeys: 1, lua: countScript });
}

/** The characters an update sends: its field values and names. */
function charactersOf(call: UpdateCall): number {
  let characters = 0;
  for (const item of call.sets) characters += item.length;
  return characters;
}

/**
 * What a new record's index entries need, so that the script need not read the fields
 * back and decode them: status, task, score (createdAt), tags as JSON or '', and whether
 * it has an expiresAt.
 */
function indexEntry(record: ComputationRecord): string[] {
  const tags = Array.isArray(record.tags) && record.tags.length > 0 ? JSON.stringify(record.tags) : '';
  return [
    record.status,
    record.task,
    JSON.stringify(record.createdAt),
    tags,
    record.expiresAt === undefined ? '0' : '1',
  ];
}

/** The record as hash field/value pairs, each value JSON-encoded. */
function toFields(record: ComputationRecord): string[] {
  const fields: string[] = [];
  for (const [name, value] of Object.entries(record)) {
    if (value === undefined) continue;
    assertFieldName(name);
    const encoded = JSON.stringify(value);
    if (encoded !== undefined) fields.push(name, encoded);
  }
  return fields;
}

function fromHash(flat: Record<string, string>): ComputationRecord | undefined {
  const names = Object.keys(flat);
  if (names.length === 0) return undefined;
  const record: Record<string, unknown> = {};
  for (const name of names) record[name] = JSON.parse(flat[name]!);
  return record as unknown as ComputationRecord;
}

function assertFieldName(name: string): void {
  if (!FIELD_NAME.test(name)) {
    throw new TypeError(`[au] [store-redis] record field "${name}" is not a plain identifier`);
  }
}
