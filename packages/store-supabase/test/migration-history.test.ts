import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { postgresUrl, requireService } from '@au/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigration, PostgresStore, sqlForSchema } from '../src/index';

const postgresUp = await requireService('postgres');

/** The migration as released before `record.history` and re-opening retries. */
const previousMigration = readFileSync(
  new URL('./fixtures/pre-history-migration.sql', import.meta.url),
  'utf8',
);

describe.skipIf(!postgresUp)('the migration over a database without attempt history', () => {
  const schema = `au_history_${randomBytes(5).toString('hex')}`;
  let pool: pg.Pool;
  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: postgresUrl(), max: 4 });
  });
  afterAll(async () => {
    await pool?.query(`drop schema if exists ${schema} cascade`);
    await pool?.end();
  });

  describe('when it is applied in place, twice', () => {
    it('should keep the records and let a failed one be re-opened with its history', async () => {
      await pool.query(sqlForSchema(previousMigration, schema));
      const failed = {
        key: 'dead',
        task: 't',
        status: 'failed',
        attempt: 1,
        maxAttempts: 1,
        createdAt: 1_000,
        startedAt: 1_500,
        finishedAt: 2_000,
        error: { name: 'Error', message: 'boom' },
      };
      await pool.query(`select ${schema}.au_result_create($1::jsonb)`, [JSON.stringify(failed)]);

      await applyMigration(pool, { schema });
      await applyMigration(pool, { schema });

      const store = new PostgresStore({ connection: pool, schema });
      try {
        expect(await store.get('dead')).toEqual(failed);
        const history = [
          { attempt: 1, status: 'failed' as const, error: failed.error, startedAt: 1_500, finishedAt: 2_000 },
        ];
        const reopened = await store.update(
          'dead',
          {
            status: 'pending',
            history,
            maxAttempts: 2,
            error: undefined,
            startedAt: undefined,
            finishedAt: undefined,
          },
          { ifStatus: ['failed'], reopen: true },
        );
        expect(reopened).toMatchObject({ status: 'pending', history, maxAttempts: 2 });
        expect(await store.count({ status: 'pending' })).toBe(1);
      } finally {
        await store.close().catch(() => undefined);
      }
    });
  });
});
