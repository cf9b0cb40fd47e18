import { DatabaseUnavailableError } from './errors/database-unavailable-error';
import { MigrationMissingError } from './errors/migration-missing-error';
import { PermissionError } from './errors/permission-error';
import { RpcError } from './errors/rpc-error';
import { retryNetwork } from './retry-network';
import { definedArgs, type RpcCallOptions, type RpcTransport } from './rpc-transport';

/** What a supabase-js or postgrest-js `rpc()` call resolves with. */
export interface RpcResponse {
  data: unknown;
  error: { code?: string; message: string; details?: string | null; hint?: string | null } | null;
  status?: number;
}

/**
 * Anything with supabase-js's `rpc(fn, args)`: a `SupabaseClient`, a `PostgrestClient`,
 * or a test double. Typed structurally so this package does not depend on supabase-js.
 */
export interface RpcClient {
  rpc(fn: string, args?: Record<string, unknown>): PromiseLike<RpcResponse>;
}

/**
 * Calls the `au_*` functions through `client.rpc()` (PostgREST). The schema is the
 * client's (`db: { schema }` in supabase-js); `schema` here names it in messages.
 * supabase-js retries no POST, so idempotent calls are retried here on network failures.
 */
export class SupabaseTransport implements RpcTransport {
  readonly name = 'supabase';
  readonly schema: string;
  /** The client calls go through. */
  readonly client: RpcClient;

  constructor(client: RpcClient, { schema = 'public' }: { schema?: string } = {}) {
    if (typeof client?.rpc !== 'function') {
      throw new TypeError(
        '[au] [supabase] the client must have rpc(fn, args): pass a SupabaseClient or PostgrestClient',
      );
    }
    this.client = client;
    this.schema = schema;
  }

  async call<T>(fn: string, args: Record<string, unknown>, options: RpcCallOptions = {}): Promise<T> {
    const body = Object.fromEntries(definedArgs(args));
    const response = await retryNetwork(
      async () => {
        let result: RpcResponse;
        try {
          result = await this.client.rpc(fn, body);
        } catch (error) {
          // A client that throws (fetch failed, a socket reset) rather than answering.
          throw new DatabaseUnavailableError({ fn, component: this.name, cause: error });
        }
        if (result.error !== null && result.error !== undefined)
          throw translateRpcError(result, fn, this.name);
        return result;
      },
      options.idempotent === true,
      DatabaseUnavailableError.isInstance,
    );
    return response.data as T;
  }

  async close(): Promise<void> {}
}

/**
 * A PostgREST error response as an au error: no answer from the database (transient:
 * `DatabaseUnavailableError`), a missing function, a missing privilege, or the
 * database's own words.
 */
export function translateRpcError(response: RpcResponse, fn: string, component: string): Error {
  const error = response.error!;
  const code = error.code;
  if (code === 'PGRST202' || code === '42883')
    return new MigrationMissingError({ fn, component, cause: error });
  if (code === '42501') return new PermissionError({ fn, component, cause: error });
  if (isUnavailable(response)) return new DatabaseUnavailableError({ fn, component, cause: error });
  const detail = [error.message, error.details, error.hint].filter((part) => part).join(' — ');
  return new RpcError({
    fn,
    component,
    sqlState: code ?? String(response.status ?? 'unknown'),
    detail,
    cause: error,
  });
}

// ---- private helpers --------------------------------------------------------------

/** PostgREST's codes for "cannot reach the database" (PGRST000-003), and SQLSTATEs of a server going away. */
const UNAVAILABLE_CODE = /^(PGRST00[0-3]|08...|57P0[1-3]|53300)$/;

/**
 * The request got no answer from the database: no HTTP answer at all (status 0, the
 * fetch failed), a gateway that could not reach PostgREST (502-504, 520), or PostgREST
 * that could not reach PostgreSQL.
 */
function isUnavailable(response: RpcResponse): boolean {
  const { status } = response;
  const error = response.error!;
  if (status === 0 || status === 502 || status === 503 || status === 504 || status === 520) return true;
  if (error.code !== undefined && UNAVAILABLE_CODE.test(error.code)) return true;
  return /fetch failed|ECONNREFUSED|ECONNRESET|socket hang up|other side closed|network/i.test(
    `${error.message} ${error.details ?? ''}`,
  );
}
