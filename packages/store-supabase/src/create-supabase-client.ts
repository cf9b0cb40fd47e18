import { ConfigError } from '@au/core';
import { PostgrestClient } from '@supabase/postgrest-js';
import type { RpcClient } from './supabase-transport';

export interface SupabaseClientOptions {
  /** The project URL, e.g. `https://xyz.supabase.co` (SUPABASE_URL). */
  url: string;
  /** The service role key (SUPABASE_SERVICE_ROLE_KEY). */
  key: string;
  /** @default 'public' */
  schema?: string;
}

/**
 * A PostgREST client for `rpc()` calls to a Supabase project: what the providers use.
 * postgrest-js alone (no Realtime, so no WebSocket is needed on Node 20).
 */
export function createSupabaseRpcClient({ url, key, schema = 'public' }: SupabaseClientOptions): RpcClient {
  if (!/^https?:\/\//.test(url)) {
    throw new ConfigError({ setting: 'SUPABASE_URL', message: `"${url}" is not an http(s) URL` });
  }
  const rest = `${url.replace(/\/+$/, '')}/rest/v1`;
  return new PostgrestClient(rest, {
    headers: { apikey: key, Authorization: `Bearer ${key}` },
    schema,
  }) as unknown as RpcClient;
}

/** SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY (and AU_SUPABASE_SCHEMA) from an environment. */
export function supabaseSettingsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): SupabaseClientOptions {
  const url = env.SUPABASE_URL?.trim();
  const key = env.SUPABASE_SERVICE_ROLE_KEY?.trim();
  if (!url || !key) {
    throw new ConfigError({
      setting: 'AU_STORE=supabase',
      message: 'needs SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY (the service role key, not the anon key)',
    });
  }
  const schema = env.AU_SUPABASE_SCHEMA?.trim();
  return { url, key, ...(schema ? { schema } : {}) };
}
