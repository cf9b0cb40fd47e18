import { checkOptions, optionNames } from '@au/core/kit';
import { SqlFunctionLocks } from './sql-function-locks';
import { type RpcClient, SupabaseTransport } from './supabase-transport';

export interface SupabaseLocksOptions {
  /**
   * A supabase-js `SupabaseClient` or a postgrest-js `PostgrestClient` made with the
   * service role key (anything with `rpc(fn, args)`).
   */
  client: RpcClient;
  /** The schema the client targets, for messages (set the schema on the client itself). @default 'public' */
  schema?: string;
}

const SUPABASE_LOCKS_OPTIONS = optionNames<SupabaseLocksOptions>({ client: true, schema: true });

/**
 * Distributed locks in Supabase, through `rpc()` calls to the migration's `au_lock_*`
 * functions: the same locks as `PostgresLocks` (the two may share a database).
 */
export class SupabaseLocks extends SqlFunctionLocks {
  constructor(options: SupabaseLocksOptions) {
    checkOptions('[supabase] SupabaseLocks', options, SUPABASE_LOCKS_OPTIONS);
    super(
      new SupabaseTransport(options.client, options.schema === undefined ? {} : { schema: options.schema }),
      'SupabaseLocks',
    );
  }
}
