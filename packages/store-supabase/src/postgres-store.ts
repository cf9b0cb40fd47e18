import {
  assertValidKey,
  type Clock,
  ClosedError,
  type ComputationRecord,
  checkWatchFilter,
  type StoreCapabilities,
  type WatchFilter,
} from '@au/core';
import { checkOptions, optionNames } from '@au/core/kit';
import type pg from 'pg';
import { PgTransport } from './pg-transport';
import { RecordListener } from './record-listener';
import { SqlFunctionStore } from './sql-function-store';

export interface PostgresStoreOptions {
  /** A connection URL (`postgres://…`), or a `pg.Pool` you own (it is not ended on close). */
  connection: string | pg.Pool;
  /** Schema where the au migration was applied. @default 'public' */
  schema?: string;
  /** Pool size when `connection` is a URL. @default 10 */
  max?: number;
  /** Time source for TTL checks. @default systemClock */
  clock?: Clock;
  /**
   * Implement `watch` with LISTEN/NOTIFY: turns on the migration's change notifications
   * (for every process using the schema: each record change then NOTIFYs, which costs
   * write throughput) and holds one pooled connection; `watchAll` too. Off: handles poll
   * (and `watchComputations` polls `list`). @default false
   */
  watch?: boolean;
}

const POSTGRES_STORE_OPTIONS = optionNames<PostgresStoreOptions>({
  connection: true,
  schema: true,
  max: true,
  clock: true,
  watch: true,
});

/**
 * Computation records in PostgreSQL through `pg`, over the `au_*` SQL functions of the
 * migration (`au-supabase migrate`). Every update is one atomic function call that
 * mirrors core's `applyPatch`, so any number of processes may share the table.
 * `watch` LISTENs to the notifications a trigger sends on every change.
 */
export class PostgresStore extends SqlFunctionStore {
  override readonly capabilities: StoreCapabilities;
  readonly #listener: RecordListener | undefined;
  #open = true;
  #notifyOn: Promise<unknown> | undefined;

  constructor(options: PostgresStoreOptions) {
    checkOptions('[postgres] PostgresStore', options, POSTGRES_STORE_OPTIONS);
    const schema = options.schema ?? 'public';
    super(
      new PgTransport(options.connection, {
        schema,
        ...(options.max === undefined ? {} : { max: options.max }),
      }),
      options.clock === undefined ? {} : { clock: options.clock },
    );
    const watch = options.watch === true;
    this.capabilities = { watch, watchAll: watch, shared: true, nativeTtl: false };
    if (watch) {
      this.#listener = new RecordListener(this.pool, `${schema}.au_results`, (key) => this.get(key));
      this.#listener.start();
      this.#notifyOn = this.transport.call(
        'au_set_notify_changes',
        { p_enabled: true },
        { idempotent: true },
      );
      this.#notifyOn.catch(() => undefined);
    }
  }

  watch(key: string, signal?: AbortSignal): AsyncIterable<ComputationRecord> {
    if (!this.#open || this.#listener === undefined)
      throw new ClosedError({ component: `store ${this.name}` });
    assertValidKey(key, this.name);
    return this.#listener.watch(key, signal);
  }

  /** Every new record and new version matching `filter`, over the same LISTEN connection as `watch` (`watch: true`). */
  watchAll(filter: WatchFilter, signal?: AbortSignal): AsyncIterable<ComputationRecord> {
    if (!this.#open || this.#listener === undefined)
      throw new ClosedError({ component: `store ${this.name}` });
    checkWatchFilter(filter, '[postgres] watchAll filter');
    return this.#listener.watchAll(filter, signal);
  }

  /** Resolves once change notifications are on (`watch: true`); rejects when they could not be turned on. */
  async ready(): Promise<void> {
    await this.#notifyOn;
  }

  override async close(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    await this.#notifyOn?.catch(() => undefined);
    await this.#listener?.close();
    await super.close();
  }

  /** The pool the store queries through. */
  get pool(): pg.Pool {
    return (this.transport as PgTransport).pool;
  }
}
