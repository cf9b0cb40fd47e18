import { randomBytes } from 'node:crypto';
import { applyMigration } from '@au/store-supabase';
import { postgresUrl } from '@au/testing';
import pg from 'pg';

/** A fresh schema with the au migration applied, dropped by `drop()`. */
export async function freshSchema(
  url = postgresUrl(),
  schema = `au_test_${randomBytes(5).toString('hex')}`,
): Promise<{ schema: string; pool: pg.Pool; drop(): Promise<void> }> {
  const pool = new pg.Pool({ connectionString: url, max: 20 });
  await applyMigration(pool, { schema });
  return {
    schema,
    pool,
    async drop() {
      await pool.query(`drop schema if exists ${schema} cascade`);
      await pool.end();
    },
  };
}
