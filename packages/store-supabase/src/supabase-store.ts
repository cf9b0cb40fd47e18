import type { Clock } from '@au/core';
import { checkOptions, optionNames } from '@au/core/kit';
import { SqlFunctionStore } from './sql-function-store';
import { type RpcClient, SupabaseTransport } from './supabase-transport';

export interface SupabaseStoreOptions {
  /**
   * A supabase-js `SupabaseClient` or a postgrest-js `PostgrestClient` made with the
   * service role key (anything with `rpc(fn, args)`).
   */
  client: RpcClient;
  /** The schema the client targets, for messages (set the schema on the client itself). @default 'public' */
  schema?: string;
  /** Time source for TTL checks. @default systemClock */
  clock?: Clock;
}

const SUPABASE_STORE_OPTIONS = optionNames<SupabaseStoreOptions>({ client: true, schema: true, clock: true });

/**
 * Computation records in Supabase, reached only through `rpc()` calls to the `au_*`
 * SQL functions (PostgREST). Handles poll it (`capabilities.watch` is false): Realtime
 * is not used.
 */
export class SupabaseStore extends SqlFunctionStore {
  constructor(options: SupabaseStoreOptions) {
    checkOptions('[supabase] SupabaseStore', options, SUPABASE_STORE_OPTIONS);
    super(
      new SupabaseTransport(options.client, options.schema === undefined ? {} : { schema: options.schema }),
      options.clock === undefined ? {} : { clock: options.clock },
    );
  }
}
