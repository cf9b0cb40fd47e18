import pg from 'pg';
import { DatabaseUnavailableError } from './errors/database-unavailable-error';
import { MigrationMissingError } from './errors/migration-missing-error';
import { PermissionError } from './errors/permission-error';
import { RpcError } from './errors/rpc-error';
import { retryNetwork } from './retry-network';
import { definedArgs, type RpcCallOptions, type RpcTransport } from './rpc-transport';
import { assertSchemaName } from './schema-name';

/** A `pg` pool, or anything with its `query` (a `pg.Client` fits for one-off use). */
export type PgQueryable = Pick<pg.Pool, 'query'>;

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND']);

/**
 * SQLSTATEs of a server that is going away or not taking connections: admin, crash and
 * immediate shutdown, cannot connect now, too many connections.
 */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300']);

/** What `pg` says when a connection drops or never comes up (these errors carry no code). */
const UNAVAILABLE_MESSAGE =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout/i;

/**
 * Calls the `au_*` functions through `pg`: `select schema.fn(p_a => $1, …)`, each SQL
 * text a named prepared statement, so PostgreSQL plans it once per connection.
 */
export class PgTransport implements RpcTransport {
  readonly name = 'postgres';
  readonly schema: string;
  readonly pool: pg.Pool;
  readonly #ownsPool: boolean;
  readonly #statementNames = new Map<string, string>();

  constructor(
    source: string | pg.Pool,
    { schema = 'public', max = 10 }: { schema?: string; max?: number } = {},
  ) {
    assertSchemaName(schema);
    this.schema = schema;
    if (typeof source === 'string') {
      this.pool = new pg.Pool({ connectionString: source, max });
      this.pool.on('error', () => undefined); // idle-client errors: the next query reports them
      this.#ownsPool = true;
    } else {
      this.pool = source;
      this.#ownsPool = false;
    }
  }

  async call<T>(fn: string, args: Record<string, unknown>, options: RpcCallOptions = {}): Promise<T> {
    const entries = definedArgs(args);
    const json = options.json ?? [];
    const list = entries
      .map(([name], index) => `${name} => $${index + 1}${json.includes(name) ? '::jsonb' : ''}`)
      .join(', ');
    const target = `${this.schema}.${fn}(${list})`;
    const text = options.rows ? `select * from ${target}` : `select ${target} as result`;
    const values = entries.map(([name, value]) => (json.includes(name) ? JSON.stringify(value) : value));
    const query = { name: this.#statementName(text), text, values };
    const result = await retryNetwork(
      () => this.pool.query(query),
      options.idempotent === true,
      isNetworkError,
    ).catch((error: unknown) => {
      throw translatePgError(error, fn, this.name);
    });
    return (options.rows ? result.rows : result.rows[0]?.result) as T;
  }

  async close(): Promise<void> {
    if (this.#ownsPool) await this.pool.end();
  }

  #statementName(text: string): string {
    let name = this.#statementNames.get(text);
    if (name === undefined) {
      name = `au_${this.#statementNames.size}_${hash(text)}`;
      this.#statementNames.set(text, name);
    }
    return name;
  }
}

/** Whether a `pg` error means the request never got an answer (worth retrying when idempotent). */
export function isNetworkError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string') {
    return NETWORK_CODES.has(code) || code.startsWith('08') || UNAVAILABLE_STATES.has(code);
  }
  return UNAVAILABLE_MESSAGE.test(String((error as Error)?.message));
}

/**
 * A `pg` error as an au error: the database unreachable (transient: `DatabaseUnavailableError`),
 * a missing function, a missing privilege, or the database's own words.
 */
export function translatePgError(error: unknown, fn: string, component: string): Error {
  if (isNetworkError(error)) return new DatabaseUnavailableError({ fn, component, cause: error });
  const code = (error as { code?: unknown })?.code;
  const message = String((error as Error)?.message ?? error);
  if (code === '42883' || (code === '3F000' && message.includes('schema'))) {
    return new MigrationMissingError({ fn, component, cause: error });
  }
  if (code === '42501') return new PermissionError({ fn, component, cause: error });
  return new RpcError({
    fn,
    component,
    ...(typeof code === 'string' ? { sqlState: code } : {}),
    detail: message,
    cause: error,
  });
}

function hash(text: string): string {
  let value = 2166136261;
  for (let index = 0; index < text.length; index++) {
    value ^= text.charCodeAt(index);
    value = Math.imul(value, 16777619);
  }
  return (value >>> 0).toString(36);
}
