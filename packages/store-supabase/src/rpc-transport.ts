/**
 * How the stores and queues reach the `au_*` SQL functions: by name with named
 * arguments, as PostgREST's `rpc()` does. One transport speaks `pg`, the other a
 * supabase-js (or postgrest-js) client; everything above them is shared.
 */
export interface RpcTransport {
  /** Short name for messages: `postgres` or `supabase`. */
  readonly name: string;
  /** The schema holding the functions. */
  readonly schema: string;
  /**
   * Calls `fn` with named arguments (`undefined` ones are left out, so the function's
   * defaults apply). Resolves with the function's result: a scalar, or the rows of a
   * set-returning function when `options.rows` is set.
   */
  call<T>(fn: string, args: Record<string, unknown>, options?: RpcCallOptions): Promise<T>;
  /** Releases what the transport owns. */
  close(): Promise<void>;
}

export interface RpcCallOptions {
  /** Arguments whose SQL type is json/jsonb (sent as JSON text through `pg`). */
  json?: readonly string[];
  /** The function returns `setof`: resolve with the rows. */
  rows?: boolean;
  /**
   * The call is safe to repeat (a read, or a write fenced by a lease token or keyed by
   * the computation key): network failures are retried with backoff.
   */
  idempotent?: boolean;
}

/** Drops `undefined` arguments. */
export function definedArgs(args: Record<string, unknown>): [string, unknown][] {
  return Object.entries(args).filter(([, value]) => value !== undefined);
}
