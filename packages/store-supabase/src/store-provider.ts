import type { StoreProvider } from '@au/core/kit';
import { createSupabaseRpcClient, supabaseSettingsFromEnv } from './create-supabase-client';
import { PostgresStore } from './postgres-store';
import { SupabaseStore } from './supabase-store';

/**
 * `AU_STORE=postgres://…` (or `postgresql://…`; `?schema=NAME` or AU_PG_SCHEMA picks
 * the schema) → `PostgresStore`; `AU_STORE=supabase` with SUPABASE_URL and
 * SUPABASE_SERVICE_ROLE_KEY → `SupabaseStore`.
 */
export const storeProvider: StoreProvider = {
  matches: (value) => /^postgres(ql)?:\/\//.test(value) || value === 'supabase',
  create({ value, env }) {
    if (value === 'supabase') {
      const settings = supabaseSettingsFromEnv(env);
      return new SupabaseStore({
        client: createSupabaseRpcClient(settings),
        ...(settings.schema === undefined ? {} : { schema: settings.schema }),
      });
    }
    const { connection, schema } = splitSchema(value, env.AU_PG_SCHEMA);
    return new PostgresStore({ connection, schema });
  },
};

/** Takes `schema` out of a connection URL's query (pg would pass it on to the server). */
export function splitSchema(url: string, fallback?: string): { connection: string; schema: string } {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema') ?? fallback ?? 'public';
  parsed.searchParams.delete('schema');
  return { connection: parsed.toString(), schema };
}
