import {
  assertValidKey,
  type Clock,
  ClosedError,
  type ComputationPatch,
  type ComputationRecord,
  type ComputationStore,
  type CountQuery,
  KeyExistsError,
  type ListPage,
  type ListQuery,
  type StoreCapabilities,
  systemClock,
  type UpdateOptions,
} from '@au/core';
import { encodeCursor, normalizeListQuery } from '@au/core/kit';
import { DatabaseUnavailableError } from './errors/database-unavailable-error';
import { RpcError } from './errors/rpc-error';
import { type FencedWrite, FencedWriteBatcher, type JoinableWrite } from './fenced-writes';
import { LeasedStore } from './leased-store';
import type { RpcTransport } from './rpc-transport';

/** The lease a queue worker holds on a computation's queue entry: writes fenced by it fail once it is lost. */
export interface Lease {
  /** The computation's key (its row is its queue entry). */
  taskId: string | number;
  token: string;
}

/**
 * A `ComputationStore` over the `au_result_*` SQL functions: every operation is one
 * function call, atomic in the database, so any number of processes may share it.
 * `PostgresStore` and `SupabaseStore` differ only in their transport.
 */
export class SqlFunctionStore implements ComputationStore {
  readonly name: string;
  readonly capabilities: StoreCapabilities = { watch: false, shared: true, nativeTtl: false };
  readonly transport: RpcTransport;
  readonly #clock: Clock;
  #closed = false;
  readonly #fencedWrites: FencedWriteBatcher;
  #id: string | undefined;
  #identifying: Promise<string> | undefined;

  constructor(transport: RpcTransport, { clock = systemClock }: { clock?: Clock } = {}) {
    this.transport = transport;
    this.name = transport.name;
    this.#clock = clock;
    this.#fencedWrites = new FencedWriteBatcher(transport);
  }

  /** The schema holding the au tables and functions. */
  get schema(): string {
    return this.transport.schema;
  }

  /**
   * The schema's identity (`au-sql:<uuid>`, kept in the migration's settings row): the
   * same for a PostgresStore and a SupabaseStore over the same schema, in any process.
   * Known once `identify()` resolved; `undefined` before (the queue backends identify
   * their stores before they compare them).
   */
  get id(): string | undefined {
    return this.#id;
  }

  /** Reads the schema's identity once (see `id`); a failed read is tried again on the next call. */
  identify(): Promise<string> {
    this.#identifying ??= this.transport
      .call<string | null>('au_store_id', {}, { idempotent: true })
      .then((uuid) => {
        if (uuid === null || uuid === undefined)
          throw new TypeError(
            `[au] [${this.name}] schema "${this.schema}" has no store id: apply the au migration again (\`npx au-supabase migrate\`)`,
          );
        this.#id = `au-sql:${uuid}`;
        return this.#id;
      })
      .catch((error: unknown) => {
        this.#identifying = undefined;
        throw error;
      });
    return this.#identifying;
  }

  async get(key: string): Promise<ComputationRecord | undefined> {
    this.#assertOpen();
    assertValidKey(key, this.name);
    const record = await this.transport.call<ComputationRecord | null>(
      'au_result_get',
      { p_key: key, p_now: this.#clock.now() },
      { idempotent: true },
    );
    return record ?? undefined;
  }

  /** The live records of several keys at once (absent keys are left out). */
  async getMany(keys: readonly string[]): Promise<Map<string, ComputationRecord>> {
    this.#assertOpen();
    for (const key of keys) assertValidKey(key, this.name);
    const records = await this.transport.call<Record<string, ComputationRecord>>(
      'au_result_get_many',
      { p_keys: [...keys], p_now: this.#clock.now() },
      { idempotent: true },
    );
    return new Map(Object.entries(records ?? {}));
  }

  async create(record: ComputationRecord): Promise<void> {
    this.#assertOpen();
    assertValidKey(record.key, this.name);
    const call = () =>
      this.transport
        .call<boolean>(
          'au_result_create',
          { p_record: record, p_now: this.#clock.now() },
          { json: ['p_record'] },
        )
        .catch((error: unknown) => {
          // Another session created the key between the check and the insert.
          if (RpcError.isInstance(error) && error.sqlState === '23505') return false;
          throw error;
        });
    let created: boolean;
    try {
      created = await call();
    } catch (error) {
      // The request may have reached the database: a second try that finds our own
      // record (same task and createdAt) counts as created.
      if (!DatabaseUnavailableError.isInstance(error)) throw error;
      created = await call();
      if (!created) {
        const existing = await this.get(record.key);
        created = existing?.task === record.task && existing.createdAt === record.createdAt;
      }
    }
    if (!created) throw new KeyExistsError({ key: record.key, store: this.name });
  }

  /** All or none, in one statement (`au_result_create_many`): a whole `launchMany` chunk is one transaction. */
  async createMany(records: readonly ComputationRecord[]): Promise<void> {
    await this.#createMany(records, 'au_result_create_many', {});
  }

  /**
   * `createMany`, and each record queued in `queue` in the same statement
   * (`au_launch_many`): for a queue backend over this schema, whose queue entry is the
   * record's row. `jobs[i]` is the queue entry of `records[i]`, as `au_enqueue_many`
   * reads it.
   */
  async createQueued(
    records: readonly ComputationRecord[],
    queue: string,
    jobs: readonly unknown[],
  ): Promise<void> {
    await this.#createMany(records, 'au_launch_many', { p_jobs: jobs, p_queue: queue });
  }

  async #createMany(
    records: readonly ComputationRecord[],
    sqlFunction: 'au_result_create_many' | 'au_launch_many',
    extra: { p_jobs?: readonly unknown[]; p_queue?: string },
  ): Promise<void> {
    this.#assertOpen();
    const keys = new Set<string>();
    for (const record of records) {
      assertValidKey(record.key, this.name);
      if (keys.has(record.key)) throw new KeyExistsError({ key: record.key, store: this.name });
      keys.add(record.key);
    }
    if (records.length === 0) return;
    const call = () =>
      this.transport
        .call<string | null>(
          sqlFunction,
          { p_records: records, ...extra, p_now: this.#clock.now() },
          { json: extra.p_jobs === undefined ? ['p_records'] : ['p_records', 'p_jobs'] },
        )
        .catch((error: unknown) => {
          // Another session took a key between the check and the insert: nothing was stored.
          if (RpcError.isInstance(error) && error.sqlState === '23505') return records[0]!.key;
          throw error;
        });
    let taken: string | null;
    try {
      taken = await call();
    } catch (error) {
      // The batch may have been stored before the reply was lost: a second try that finds
      // our own records (same task and createdAt) counts as stored.
      if (!DatabaseUnavailableError.isInstance(error)) throw error;
      taken = await call();
      if (taken !== null) {
        const existing = await this.getMany([...keys]);
        const ours = records.every(
          (record) =>
            existing.get(record.key)?.task === record.task &&
            existing.get(record.key)?.createdAt === record.createdAt,
        );
        if (ours) taken = null;
      }
    }
    if (taken !== null) throw new KeyExistsError({ key: taken, store: this.name });
  }

  update(
    key: string,
    patch: ComputationPatch,
    options: UpdateOptions = {},
  ): Promise<ComputationRecord | undefined> {
    return this.updateWithLease(key, patch, options, undefined);
  }

  /**
   * `update`, applied only while `lease` is held on the computation's queue entry
   * (fencing): a worker whose lease expired cannot overwrite what the next worker
   * writes, and a status change moves the queue entry along in the same write. For
   * queue workers. With `batched`, the write joins the others in flight (one statement
   * for many; see `FencedWriteBatcher`); with `viaRunning` too, it is a claim and the next
   * write together, its status change judged as two (`pending → running → completed`).
   */
  async updateWithLease(
    key: string,
    patch: ComputationPatch,
    options: UpdateOptions,
    lease: Lease | undefined,
    { batched = false, viaRunning = false }: { batched?: boolean; viaRunning?: boolean } = {},
  ): Promise<ComputationRecord | undefined> {
    if (batched && lease !== undefined) {
      const write = this.#fencedWrite(key, patch, options, lease);
      return this.#fencedWrites.write(viaRunning ? { ...write, viaRunning } : write);
    }
    this.#assertOpen();
    assertValidKey(key, this.name);
    const set: Record<string, unknown> = {};
    const unset: string[] = [];
    for (const [field, value] of Object.entries(patch)) {
      if (value === undefined) unset.push(field);
      else set[field] = value;
    }
    const record = await this.transport.call<ComputationRecord | null>(
      'au_result_update',
      {
        p_key: key,
        p_patch: set,
        p_unset: unset,
        p_if_status: options.ifStatus === undefined ? undefined : [...options.ifStatus],
        p_now: this.#clock.now(),
        p_lease_token: lease?.token,
        ...(options.reopen === true ? { p_reopen: true } : {}),
      },
      { json: ['p_patch'] },
    );
    return record ?? undefined;
  }

  /**
   * A batched `updateWithLease` that the computation's next write may join until its
   * batch leaves (see `FencedWriteBatcher.writeJoinable`): a queue worker's claim.
   */
  writeJoinable(key: string, patch: ComputationPatch, options: UpdateOptions, lease: Lease): JoinableWrite {
    return this.#fencedWrites.writeJoinable(this.#fencedWrite(key, patch, options, lease));
  }

  #fencedWrite(key: string, patch: ComputationPatch, options: UpdateOptions, lease: Lease): FencedWrite {
    this.#assertOpen();
    assertValidKey(key, this.name);
    return { key, patch, options, now: this.#clock.now(), leaseToken: lease.token };
  }

  /**
   * A view of this store whose updates are fenced by `lease` (see `updateWithLease`).
   * `prefetched` answers the first `get` of its key (a worker reads a claimed batch at once).
   */
  withLease(lease: Lease, prefetched?: ComputationRecord): LeasedStore {
    return new LeasedStore(this, lease, prefetched);
  }

  async delete(key: string): Promise<boolean> {
    this.#assertOpen();
    assertValidKey(key, this.name);
    return this.transport.call<boolean>(
      'au_result_delete',
      { p_key: key, p_now: this.#clock.now() },
      { idempotent: true },
    );
  }

  async list(query?: ListQuery): Promise<ListPage> {
    this.#assertOpen();
    const normalized = normalizeListQuery(query);
    const records = await this.transport.call<ComputationRecord[]>(
      'au_result_list',
      {
        p_statuses: normalized.statuses === undefined ? undefined : [...normalized.statuses],
        p_task: normalized.task,
        p_tag: normalized.tag,
        p_limit: normalized.limit + 1,
        p_after_created_at: normalized.after?.createdAt,
        p_after_key: normalized.after?.key,
        p_now: this.#clock.now(),
      },
      { idempotent: true },
    );
    if (records.length <= normalized.limit) return { records };
    const page = records.slice(0, normalized.limit);
    return { records: page, cursor: encodeCursor(page[page.length - 1]!) };
  }

  async count(query?: CountQuery): Promise<number> {
    this.#assertOpen();
    const normalized = normalizeListQuery(query);
    const total = await this.transport.call<number | string>(
      'au_result_count',
      {
        p_statuses: normalized.statuses === undefined ? undefined : [...normalized.statuses],
        p_task: normalized.task,
        p_tag: normalized.tag,
        p_now: this.#clock.now(),
      },
      { idempotent: true },
    );
    return Number(total);
  }

  async cleanupExpired(now: number = this.#clock.now()): Promise<number> {
    this.#assertOpen();
    return this.transport.call<number>('au_prune_expired', { p_now: now }, { idempotent: true });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.transport.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError({ component: `store ${this.name}` });
  }
}
