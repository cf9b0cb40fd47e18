import { testStore } from '@au/testing';
import { describe } from 'vitest';
import { createSupabaseRpcClient, SupabaseStore } from '../src/index';

// Opt-in: runs against a real Supabase project when SUPABASE_URL and
// SUPABASE_SERVICE_ROLE_KEY are set (the migration must be applied there:
// `npx au-supabase migrate --url <its connection string>`). Skipped loudly otherwise.
const url = process.env.SUPABASE_URL;
const key = process.env.SUPABASE_SERVICE_ROLE_KEY;
const enabled = Boolean(url && key);
if (!enabled) {
  console.warn(
    '\n⚠️  [au] [store-supabase] SUPABASE_URL / SUPABASE_SERVICE_ROLE_KEY are not set: SKIPPING the tests against a real Supabase project.\n',
  );
}

describe.skipIf(!enabled)('SupabaseStore against a real Supabase project', () => {
  testStore(
    'SupabaseStore (real Supabase)',
    () => new SupabaseStore({ client: createSupabaseRpcClient({ url: url!, key: key! }) }),
    {
      sharedNamespace: true,
      timeoutScale: 3,
    },
  );
});
