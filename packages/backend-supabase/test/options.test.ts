import type { RpcClient } from '@au/store-supabase';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  PostgresQueueBackend,
  SupabaseQueueBackend,
  startPostgresWorker,
  startSupabaseWorker,
} from '../src/index';

// Nothing connects: an unknown option is refused before any pool or client is used.
const pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/none' });
const client: RpcClient = { rpc: async () => ({ data: null, error: null }) };
afterAll(() => pool.end());

describe('queue backend options', () => {
  describe('when an option is unknown', () => {
    it('should throw a TypeError naming it, from every constructor', async () => {
      const cases: [string, () => unknown][] = [
        [
          'PostgresQueueBackend',
          () => new PostgresQueueBackend({ connection: pool, concurency: 2 } as never),
        ],
        ['SupabaseQueueBackend', () => new SupabaseQueueBackend({ client, polingInterval: 5 } as never)],
      ];
      for (const [where, make] of cases) {
        expect(make, where).toThrow(TypeError);
        expect(make, where).toThrow(/unknown option "(concurency|polingInterval)"/);
      }
      await expect(startPostgresWorker({ connection: pool, tasks: [], leaseMS: 1 } as never)).rejects.toThrow(
        /startPostgresWorker: unknown option "leaseMS" \(did you mean "leaseMs"\?\)/,
      );
      await expect(
        startSupabaseWorker({ client, tasks: [], worker: false } as never),
        'a worker is always a worker',
      ).rejects.toThrow(/startSupabaseWorker: unknown option "worker"/);
    });
  });
});
