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
          throw new RpcError({
            fn,
            component: this.name,
            sqlState: 'network',
            detail: String(error),
            cause: error,
          });
        }
        if (result.error !== null && result.error !== undefined)
          throw translateRpcError(result, fn, this.name);
        return result;
      },
      options.idempotent === true,
      (error) => RpcError.isInstance(error) && error.sqlState === 'network',
    );
    return response.data as T;
  }

  async close(): Promise<void> {}
}

/** A PostgREST error response as an au error. */
export function translateRpcError(response: RpcResponse, fn: string, component: string): Error {
  const error = response.error!;
  const code = error.code;
  if (code === 'PGRST202' || code === '42883')
    return new MigrationMissingError({ fn, component, cause: error });
  if (code === '42501') return new PermissionError({ fn, component, cause: error });
  const network =
    response.status === 0 ||
    response.status === 503 ||
    response.status === 520 ||
    /fetch failed|ECONNREFUSED|ECONNRESET|network/i.test(error.message);
  const detail = [error.message, error.details, error.hint].filter((part) => part).join(' — ');
  return new RpcError({
    fn,
    component,
    sqlState: network ? 'network' : (code ?? String(response.status ?? 'unknown')),
    detail,
    cause: error,
  });
}
