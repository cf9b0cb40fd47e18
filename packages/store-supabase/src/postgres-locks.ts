import { checkOptions, optionNames } from '@au/core/kit';
import type pg from 'pg';
import { PgTransport } from './pg-transport';
import { SqlFunctionLocks } from './sql-function-locks';

export interface PostgresLocksOptions {
  /** A connection URL (`postgres://…`), or a `pg.Pool` you own (it is not ended on close). */
  connection: string | pg.Pool;
  /** Schema where the au migration was applied. @default 'public' */
  schema?: string;
  /** Pool size when `connection` is a URL. @default 4 */
  max?: number;
}

const POSTGRES_LOCKS_OPTIONS = optionNames<PostgresLocksOptions>({
  connection: true,
  schema: true,
  max: true,
});

/**
 * Distributed locks in PostgreSQL through `pg`, over the `au_locks` table and
 * `au_lock_*` functions of the au migration (`au-supabase migrate`). Time is the
 * database's; fencing tokens strictly increase per key (each key's row keeps its last).
 *
 * ```ts
 * const locks = new PostgresLocks({ connection: process.env.DATABASE_URL! });
 * await locks.withLock('invoice:42', async ({ token }) => send(42, token), { ttl: 10_000 });
 * ```
 */
export class PostgresLocks extends SqlFunctionLocks {
  constructor(options: PostgresLocksOptions) {
    checkOptions('[postgres] PostgresLocks', options, POSTGRES_LOCKS_OPTIONS);
    if (typeof options.connection !== 'string' && typeof options.connection?.query !== 'function') {
      throw new TypeError('[au] [postgres] PostgresLocks: connection must be a postgres:// URL or a pg.Pool');
    }
    super(
      new PgTransport(options.connection, { schema: options.schema ?? 'public', max: options.max ?? 4 }),
      'PostgresLocks',
    );
  }

  /** The pool the locks query through. */
  get pool(): pg.Pool {
    return (this.transport as PgTransport).pool;
  }
}
