import { configFromEnv } from '@au/core';
import { registerStoreProvider } from '@au/core/kit';
import { postgresUrl, requireService } from '@au/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MIGRATION_FILE_NAME,
  migrationSql,
  PostgresStore,
  runCli,
  SupabaseStore,
  storeProvider,
} from '../src/index';
import { freshSchema } from './helpers';

const postgresUp = await requireService('postgres');

function capture() {
  const lines: string[] = [];
  return {
    lines,
    output: { log: (text: string) => lines.push(text), error: (text: string) => lines.push(text) },
  };
}

describe('au-supabase', () => {
  describe('when printing', () => {
    it('should print the migration for a schema, ending with the PostgREST reload', async () => {
      const { lines, output } = capture();
      expect(await runCli(['print', '--schema', 'jobs'], output)).toBe(0);
      expect(lines[0]).toContain('create table if not exists jobs.au_results');
      expect(lines[0]).not.toMatch(/\bpublic\./);
      expect(lines[0]!.trim().endsWith("notify pgrst, 'reload schema';")).toBe(true);
    });

    it('should name a file that fits supabase/migrations/', async () => {
      const { lines, output } = capture();
      expect(await runCli(['file'], output)).toBe(0);
      expect(lines[0]).toBe(MIGRATION_FILE_NAME);
      expect(MIGRATION_FILE_NAME).toMatch(/^\d{14}_[a-z0-9_]+\.sql$/);
    });

    it('should refuse a schema name that would need quoting', () => {
      expect(() => migrationSql('Bad-Name')).toThrow(/not a schema name/);
    });
  });

  describe.skipIf(!postgresUp)('when migrating a database', () => {
    let database: Awaited<ReturnType<typeof freshSchema>>;
    beforeAll(async () => {
      database = await freshSchema();
    });
    afterAll(async () => {
      await database?.drop();
    });

    it('should apply the migration twice without harm', async () => {
      const { output } = capture();
      expect(await runCli(['migrate', '--url', postgresUrl(), '--schema', database.schema], output)).toBe(0);
      expect(await runCli(['migrate', '--url', postgresUrl(), '--schema', database.schema], output)).toBe(0);
      const { rows } = await database.pool.query(
        `select count(*)::int as n from pg_proc p join pg_namespace n on n.oid = p.pronamespace
          where n.nspname = $1 and p.proname = 'au_claim'`,
        [database.schema],
      );
      expect(rows[0].n).toBe(1);
    });

    it('should grant EXECUTE to service_role only', async () => {
      const { rows } = await database.pool.query(
        `select has_function_privilege('anon', 'au_result_get(text, bigint)'::regprocedure::oid, 'execute') as anon,
                has_function_privilege('service_role', 'au_result_get(text, bigint)'::regprocedure::oid, 'execute') as service`.replace(
          /au_result_get/g,
          `${database.schema}.au_result_get`,
        ),
      );
      expect(rows[0]).toEqual({ anon: false, service: true });
    });

    it('should make a PostgresStore from AU_STORE=postgres://…?schema=', async () => {
      // In an app, configFromEnv imports @au/store-supabase by name; core cannot resolve
      // it from inside this workspace, so the provider is registered as a user may.
      registerStoreProvider(storeProvider);
      const config = await configFromEnv({
        env: { AU_STORE: `${postgresUrl()}?schema=${database.schema}`, AU_BACKEND: 'inline' },
      });
      try {
        expect(config.store).toBeInstanceOf(PostgresStore);
        await config.store.create({
          key: 'env.1',
          task: 't',
          status: 'pending',
          attempt: 0,
          maxAttempts: 1,
          createdAt: 1,
        });
        expect((await config.store.get('env.1'))?.task).toBe('t');
      } finally {
        await config.close();
      }
    });
  });

  describe('when AU_STORE=supabase', () => {
    it('should need SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY', async () => {
      expect(storeProvider.matches('supabase')).toBe(true);
      expect(() => storeProvider.create({ value: 'supabase', env: {} })).toThrow(/SUPABASE_SERVICE_ROLE_KEY/);
      const store = await storeProvider.create({
        value: 'supabase',
        env: { SUPABASE_URL: 'http://127.0.0.1:1', SUPABASE_SERVICE_ROLE_KEY: 'k' },
      });
      expect(store).toBeInstanceOf(SupabaseStore);
      await store.close();
    });
  });
});
