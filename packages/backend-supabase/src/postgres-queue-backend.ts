import { checkOptions, optionNames } from '@au/core/kit';
import { PgTransport, PostgresStore, wakeupChannel } from '@au/store-supabase';
import type pg from 'pg';
import { QueueBackend } from './queue-backend';
import { QUEUE_BACKEND_OPTION_NAMES, type QueueBackendOptions } from './queue-backend-options';
import { QueueClient } from './queue-client';

export interface PostgresQueueBackendOptions extends QueueBackendOptions {
  /** A connection URL (`postgres://…`), or a `pg.Pool` you own (not ended on close). */
  connection: string | pg.Pool;
  /** Schema where the au migration was applied. @default 'public' */
  schema?: string;
  /** Pool size when `connection` is a URL. @default maxConcurrentTasks + 4 */
  max?: number;
  /** Wake workers with LISTEN/NOTIFY as soon as work is enqueued (polling stays as a fallback). @default true */
  listen?: boolean;
}

const NAME = 'postgres-queue';

const POSTGRES_QUEUE_OPTIONS = optionNames<PostgresQueueBackendOptions>({
  ...QUEUE_BACKEND_OPTION_NAMES,
  connection: true,
  schema: true,
  max: true,
  listen: true,
});

/**
 * A durable au queue in PostgreSQL through `pg`: the `au_*` SQL functions of the
 * migration, workers in this process woken by LISTEN/NOTIFY (with polling as a
 * fallback), leases renewed by heartbeats, fenced completion.
 */
export class PostgresQueueBackend extends QueueBackend {
  readonly #listener: Listener | undefined;

  constructor(options: PostgresQueueBackendOptions) {
    checkOptions(`[${NAME}] PostgresQueueBackend`, options, POSTGRES_QUEUE_OPTIONS);
    const schema = options.schema ?? 'public';
    const transport = new PgTransport(options.connection, {
      schema,
      max: options.max ?? (options.maxConcurrentTasks ?? 10) + 4,
    });
    const queue = new QueueClient(transport, options.queue ?? 'default');
    const store = options.store ?? new PostgresStore({ connection: transport.pool, schema });
    let listener: Listener | undefined;
    super(NAME, queue, store, options, async () => {
      await listener?.stop();
      await transport.close();
    });
    if (options.listen !== false && options.worker !== false) {
      listener = new Listener(transport.pool, wakeupChannel(schema), queue.queue, () => this.worker?.wake());
      this.#listener = listener;
      void this.ready().then(
        () => listener?.start(),
        () => undefined,
      );
    }
  }

  /** Whether the LISTEN connection is up (work is then picked up without waiting for a poll). */
  get listening(): boolean {
    return this.#listener?.connected ?? false;
  }
}

// ---- private helpers --------------------------------------------------------------

/** One pooled connection held for LISTEN; reconnects after errors. */
class Listener {
  connected = false;
  #client: pg.PoolClient | undefined;
  #stopped = false;
  #retry: ReturnType<typeof setTimeout> | undefined;
  readonly #onNotification = (message: pg.Notification): void => {
    if (message.channel === this.channel && message.payload === this.queue) this.onWake();
  };
  readonly #onError = (): void => this.#reconnect();

  constructor(
    private readonly pool: pg.Pool,
    private readonly channel: string,
    private readonly queue: string,
    private readonly onWake: () => void,
  ) {}

  async start(): Promise<void> {
    if (this.#stopped) return;
    try {
      const client = await this.pool.connect();
      if (this.#stopped) {
        client.release();
        return;
      }
      this.#client = client;
      client.on('notification', this.#onNotification);
      client.on('error', this.#onError);
      await client.query(`listen "${this.channel}"`);
      this.connected = true;
      this.onWake();
    } catch {
      this.#reconnect();
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#retry !== undefined) clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = undefined;
    this.connected = false;
    if (client !== undefined) {
      await client.query(`unlisten "${this.channel}"`).catch(() => undefined);
      this.#detach(client);
      client.release();
    }
  }

  #reconnect(): void {
    this.connected = false;
    const client = this.#client;
    this.#client = undefined;
    if (client !== undefined) {
      this.#detach(client);
      client.release(new Error('[au] listener connection lost'));
    }
    if (this.#stopped) return;
    this.#retry = setTimeout(() => void this.start(), 1000);
    this.#retry.unref?.();
  }

  /** The pool hands this client out again: our handlers must not stay on it. */
  #detach(client: pg.PoolClient): void {
    client.off('notification', this.#onNotification);
    client.off('error', this.#onError);
  }
}
