import { checkOptions, optionNames } from '@au/core/kit';
import { type RpcClient, SupabaseStore, SupabaseTransport } from '@au/store-supabase';
import { QueueBackend } from './queue-backend';
import { QUEUE_BACKEND_OPTION_NAMES, type QueueBackendOptions } from './queue-backend-options';
import { QueueClient } from './queue-client';

export interface SupabaseQueueBackendOptions extends QueueBackendOptions {
  /** A supabase-js `SupabaseClient` or postgrest-js `PostgrestClient` with the service role key. */
  client: RpcClient;
  /** The schema the client targets (set it on the client too). @default 'public' */
  schema?: string;
}

const NAME = 'supabase-queue';

const SUPABASE_QUEUE_OPTIONS = optionNames<SupabaseQueueBackendOptions>({
  ...QUEUE_BACKEND_OPTION_NAMES,
  client: true,
  schema: true,
});

/**
 * A durable au queue in Supabase, reached only through `rpc()` (PostgREST): workers in
 * this process poll `au_claim` every `pollingInterval` ms with jitter (supabase-js
 * cannot LISTEN), run up to `maxConcurrentTasks` at once, renew leases by heartbeat.
 */
export class SupabaseQueueBackend extends QueueBackend {
  constructor(options: SupabaseQueueBackendOptions) {
    checkOptions(`[${NAME}] SupabaseQueueBackend`, options, SUPABASE_QUEUE_OPTIONS);
    const schema = options.schema ?? 'public';
    const transport = new SupabaseTransport(options.client, { schema });
    const queue = new QueueClient(transport, options.queue ?? 'default');
    const store = options.store ?? new SupabaseStore({ client: options.client, schema });
    super(NAME, queue, store, options, () => transport.close());
  }
}
