import { type ComputationRecord, isTerminalStatus, type WatchFilter } from '@au/core';
import { AllWatchers, createPushIterable, type PushIterable } from '@au/core/kit';
import type pg from 'pg';

/**
 * One pooled connection that LISTENs on `<schema>.au_results` and feeds `watch`
 * iterables: each notification carries the key and, when small enough, the new record;
 * otherwise the record is read. Reconnects after errors, re-reading watched records.
 * Also feeds `watchAll` iterables with every notified record (new ones included: the
 * migration notifies inserts too).
 */
export class RecordListener {
  readonly #pool: pg.Pool;
  readonly #channel: string;
  readonly #read: (key: string) => Promise<ComputationRecord | undefined>;
  readonly #watchers = new Map<string, Set<PushIterable<ComputationRecord>>>();
  readonly #allWatchers = new AllWatchers();
  #client: pg.PoolClient | undefined;
  #connecting: Promise<void> | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  /** Notifications seen per watched key: a re-read older than a notification is dropped. */
  readonly #seen = new Map<string, number>();

  constructor(pool: pg.Pool, channel: string, read: (key: string) => Promise<ComputationRecord | undefined>) {
    this.#pool = pool;
    this.#channel = channel;
    this.#read = read;
  }

  /** Starts listening now, so that watches begin with the connection already up. */
  start(): void {
    void this.#connect();
  }

  watch(key: string, signal?: AbortSignal): AsyncIterable<ComputationRecord> {
    let set = this.#watchers.get(key);
    if (set === undefined) {
      set = new Set();
      this.#watchers.set(key, set);
    }
    const watchers = set;
    const onAbort = () => iterable.end();
    const iterable = createPushIterable<ComputationRecord>(() => {
      watchers.delete(iterable);
      if (watchers.size === 0 && this.#watchers.get(key) === watchers) {
        this.#watchers.delete(key);
        this.#seen.delete(key);
      }
      signal?.removeEventListener('abort', onAbort);
    });
    watchers.add(iterable);
    if (signal?.aborted) iterable.end();
    else signal?.addEventListener('abort', onAbort, { once: true });
    if (this.#client === undefined) {
      // Not listening yet: once it is, re-read this record so no change is missed.
      void this.#connect().then(() => this.#refresh(key));
    }
    return iterable;
  }

  /** Every notified record matching `filter`; changes made while the connection was down are not replayed. */
  watchAll(filter: WatchFilter, signal?: AbortSignal): AsyncIterable<ComputationRecord> {
    const iterable = this.#allWatchers.watch(filter, signal);
    if (this.#client === undefined) void this.#connect();
    return iterable;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#allWatchers.end();
    if (this.#retry !== undefined) clearTimeout(this.#retry);
    for (const set of this.#watchers.values()) for (const watcher of set) watcher.end();
    this.#watchers.clear();
    await this.#connecting?.catch(() => undefined);
    const client = this.#client;
    this.#client = undefined;
    if (client !== undefined) {
      await client.query(`unlisten "${this.#channel}"`).catch(() => undefined);
      this.#detach(client);
      client.release();
    }
  }

  // ---- private helpers ------------------------------------------------------------

  #connect(): Promise<void> {
    this.#connecting ??= (async () => {
      let client: pg.PoolClient | undefined;
      try {
        client = await this.#pool.connect();
        if (this.#closed) {
          client.release();
          return;
        }
        client.on('notification', this.#onNotification);
        client.on('error', this.#onError);
        await client.query(`listen "${this.#channel}"`);
        this.#client = client;
      } catch (error) {
        if (client !== undefined) {
          this.#detach(client);
          client.release(error instanceof Error ? error : new Error(String(error)));
        }
        this.#connecting = undefined;
        if (!this.#closed) {
          this.#retry = setTimeout(() => {
            void this.#connect().then(() => {
              for (const key of this.#watchers.keys()) void this.#refresh(key);
            });
          }, 1000);
          this.#retry.unref?.();
        }
      }
    })();
    return this.#connecting;
  }

  readonly #onNotification = (message: pg.Notification): void => {
    if (message.channel === this.#channel && message.payload !== undefined) this.#onPayload(message.payload);
  };
  readonly #onError = (): void => {
    if (this.#client !== undefined) this.#lost(this.#client);
  };

  /** The pool hands this client out again: our handlers must not stay on it. */
  #detach(client: pg.PoolClient): void {
    client.off('notification', this.#onNotification);
    client.off('error', this.#onError);
  }

  #lost(client: pg.PoolClient): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    this.#connecting = undefined;
    this.#detach(client);
    client.release(new Error('[au] [postgres] watch connection lost'));
    if (this.#closed || this.#watchers.size === 0) return;
    void this.#connect().then(() => {
      for (const key of this.#watchers.keys()) void this.#refresh(key);
    });
  }

  #onPayload(payload: string): void {
    const newline = payload.indexOf('\n');
    // '+key': a new record (watchAll only); a watch starts after its record exists.
    const created = payload.startsWith('+');
    const start = created ? 1 : 0;
    const key = newline === -1 ? payload.slice(start) : payload.slice(start, newline);
    const watched = !created && this.#watchers.has(key);
    const all = this.#allWatchers.active;
    if (!watched && !all) return;
    if (watched) this.#seen.set(key, (this.#seen.get(key) ?? 0) + 1);
    if (newline === -1) {
      // Too large to travel in the notification: read.
      if (watched) void this.#refresh(key);
      if (all) {
        void this.#read(key)
          .then((record) => record !== undefined && this.#allWatchers.notify(record))
          .catch(() => undefined);
      }
      return;
    }
    const record = JSON.parse(payload.slice(newline + 1)) as ComputationRecord;
    if (watched) this.#push(key, record);
    if (all) this.#allWatchers.notify(record);
  }

  async #refresh(key: string): Promise<void> {
    if (!this.#watchers.has(key)) return;
    const before = this.#seen.get(key) ?? 0;
    const record = await this.#read(key).catch(() => undefined);
    if (record !== undefined && (this.#seen.get(key) ?? 0) === before) this.#push(key, record);
  }

  #push(key: string, record: ComputationRecord): void {
    const set = this.#watchers.get(key);
    if (set === undefined) return;
    for (const watcher of [...set]) {
      watcher.push({ ...record });
      if (isTerminalStatus(record.status)) watcher.end();
    }
  }
}
