import { requireService, testStore } from '@au/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MigrationMissingError, PostgresStore } from '../src/index';
import { freshSchema } from './helpers';

const postgresUp = await requireService('postgres');

describe.skipIf(!postgresUp)('PostgresStore', () => {
  let database: Awaited<ReturnType<typeof freshSchema>>;
  beforeAll(async () => {
    database = await freshSchema();
  });
  afterAll(async () => {
    await database?.drop();
  });

  testStore(
    'PostgresStore (watch: LISTEN/NOTIFY)',
    async () => {
      const store = new PostgresStore({ connection: database.pool, schema: database.schema, watch: true });
      await store.ready();
      return store;
    },
    {
      sharedNamespace: true,
      watchCoalesces: true,
      extra: (getStore) => {
        describe('when a patch removes fields', () => {
          it('should keep a JSON null value apart from a removed one', async () => {
            const store = getStore();
            const key = `nulls.${Date.now()}.${Math.random().toString(36).slice(2)}`;
            await store.create({
              key,
              task: 't',
              status: 'pending',
              attempt: 0,
              maxAttempts: 1,
              createdAt: 1,
              progress: 1,
            });
            const next = await store.update(key, { status: 'running', value: null, progress: undefined });
            expect(next).toEqual({
              key,
              task: 't',
              status: 'running',
              attempt: 0,
              maxAttempts: 1,
              createdAt: 1,
              value: null,
            });
            expect(await store.get(key)).toEqual(next);
          });
        });
      },
    },
  );

  describe('when the migration is not applied', () => {
    it('should say so instead of a bare SQL error', async () => {
      const store = new PostgresStore({ connection: database.pool, schema: 'au_missing_schema' });
      const error = await store.get('x').catch((caught: unknown) => caught);
      expect(MigrationMissingError.isInstance(error)).toBe(true);
      expect((error as Error).message).toMatch(/the au migration is not applied/);
      await store.close();
    });
  });

  describe('when the migration is applied twice', () => {
    it('should keep the records', async () => {
      const store = new PostgresStore({ connection: database.pool, schema: database.schema });
      await store.create({
        key: 'twice',
        task: 't',
        status: 'pending',
        attempt: 0,
        maxAttempts: 1,
        createdAt: 1,
      });
      const { applyMigration } = await import('../src/index');
      await applyMigration(database.pool as pg.Pool, { schema: database.schema });
      expect((await store.get('twice'))?.task).toBe('t');
      await store.close();
    });
  });
});
