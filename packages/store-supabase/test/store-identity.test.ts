import { postgresUrl, requireService } from '@au/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigration, PostgresStore, SupabaseStore } from '../src/index';
import { freshSchema } from './helpers';

const postgresUp = await requireService('postgres');

describe.skipIf(!postgresUp)('the store id of a schema', () => {
  let database: Awaited<ReturnType<typeof freshSchema>>;
  beforeAll(async () => {
    database = await freshSchema();
  });
  afterAll(async () => {
    await database?.drop();
  });
  const storeOver = (schema: string, connection: string | typeof database.pool = database.pool) =>
    new PostgresStore({ connection, schema });

  describe('when two stores reach one schema', () => {
    it('should give both the same id, unknown until identified', async () => {
      const pooled = storeOver(database.schema);
      const byUrl = storeOver(database.schema, postgresUrl());
      try {
        expect(pooled.id).toBeUndefined();
        const id = await pooled.identify();
        expect(id).toMatch(/^au-sql:[0-9a-f-]{36}$/);
        expect(pooled.id).toBe(id);
        expect(await byUrl.identify()).toBe(id);
      } finally {
        await pooled.close();
        await byUrl.close();
      }
    });

    it('should give a SupabaseStore over the schema the same id', async () => {
      const postgres = storeOver(database.schema);
      // A client answering au_store_id as PostgREST would, from the same database.
      const supabase = new SupabaseStore({
        schema: database.schema,
        client: {
          rpc: async (fn) => ({
            data: (await database.pool.query(`select ${database.schema}.${fn}() as v`)).rows[0].v,
            error: null,
          }),
        },
      });
      try {
        expect(await supabase.identify()).toBe(await postgres.identify());
      } finally {
        await postgres.close();
        await supabase.close();
      }
    });
  });

  describe('when the migration is applied again, or over an older version', () => {
    it('should keep the id, and make one where an older migration had none', async () => {
      const store = storeOver(database.schema);
      const before = await store.identify();
      await applyMigration(database.pool, { schema: database.schema });
      const again = storeOver(database.schema);
      expect(await again.identify()).toBe(before);
      // The first release's settings table: no `value` column, no id row.
      await database.pool.query(
        `delete from ${database.schema}.au_settings where name = 'store_id';
         alter table ${database.schema}.au_settings drop column value;
         drop table ${database.schema}.au_queue_stores;`,
      );
      await applyMigration(database.pool, { schema: database.schema });
      const upgraded = storeOver(database.schema);
      const id = await upgraded.identify();
      expect(id).toMatch(/^au-sql:[0-9a-f-]{36}$/);
      expect(id, 'a schema that lost its id row gets a new identity').not.toBe(before);
      const { rows } = await database.pool.query(
        `select count(*)::int as n from information_schema.tables where table_schema = $1 and table_name = 'au_queue_stores'`,
        [database.schema],
      );
      expect(rows[0].n).toBe(1);
      await Promise.all([store.close(), again.close(), upgraded.close()]);
    });
  });
});
